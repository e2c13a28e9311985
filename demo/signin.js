// Sign-in: the account settings, kept in localStorage (the password only when
// the user asks), the "this browser is signed in" flag that every tab of the
// page follows, and the form.
//
// Settings: {account, server, user, domain, displayName, ice, remember, password?}.
// `account` names a demo account of config.json (its password comes from
// there, never stored); `server: null` means the page's default server.

const SETTINGS = 'tabphone-demo:settings';
/** `user@domain` while this browser is signed in; every tab follows it. */
export const SIGNED_IN = 'tabphone-demo:signed-in';

export function loadSettings() {
  try {
    const s = JSON.parse(localStorage.getItem(SETTINGS));
    return s && typeof s === 'object' ? s : null;
  } catch {
    return null;
  }
}

function saveSettings(s) {
  const kept = { ...s };
  if (!kept.remember || kept.account) delete kept.password;
  localStorage.setItem(SETTINGS, JSON.stringify(kept));
}

export const signedInAs = () => localStorage.getItem(SIGNED_IN);
export const accountKey = (s) => `${s.user}@${s.domain}`;

/** The demo account named `name` in the page config, if any. */
export const demoAccount = (config, name) => config.accounts.find((a) => a.user === name) || null;

/** Settings for a demo account of the config. */
export function demoSettings(config, name) {
  const a = demoAccount(config, name);
  if (!a) return null;
  return {
    account: a.user, server: null, user: a.user, domain: config.domain, displayName: a.displayName || a.user,
    ice: '', remember: false,
  };
}

/** Everything needed to sign in, or null when the password is unknown. */
export function credentials(config, s) {
  if (!s) return null;
  const demo = s.account ? demoAccount(config, s.account) : null;
  const password = demo ? demo.password : s.remember ? s.password : undefined;
  if (typeof password !== 'string') return null;
  return { ...s, password };
}

/** The `sip` options of TabPhone.connect for these credentials. */
export function sipOptions(config, c) {
  const servers = (c.server || config.server || '').split(/\s+/).filter(Boolean);
  const ice = (c.ice || '').split(/\s+/).filter(Boolean);
  return {
    servers, user: c.user, password: c.password, domain: c.domain, displayName: c.displayName || c.user,
    iceServers: ice.length ? [{ urls: ice }] : [],
    traceSip: true, // the log's toggle only shows or hides the trace
  };
}

/** Record a successful sign-in: settings, and the flag the other tabs follow. */
export function rememberSignIn(c) {
  saveSettings(c);
  localStorage.setItem(SIGNED_IN, accountKey(c));
}

export function forgetSignIn() {
  localStorage.removeItem(SIGNED_IN);
}

const field = (form, id) => form.querySelector(`[data-testid="signin-${id}"]`);

/** The sign-in form; `onSubmit(credentials)` is called with checked values. */
export class SignInForm {
  constructor(form, config, onSubmit) {
    this.form = form;
    this.config = config;
    this.account = null;
    this.picker = field(form, 'accounts');
    for (const a of config.accounts) this.picker.append(this.accountButton(a.user, a.displayName || a.user));
    if (config.accounts.length) this.picker.append(this.accountButton(null, 'Other'));
    else this.picker.hidden = true;
    for (const id of ['server', 'user', 'domain', 'password']) {
      field(form, id).addEventListener('input', () => this.pick(null, false));
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const c = this.read();
      if (c) onSubmit(c);
    });
  }

  accountButton(name, label) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'account-choice';
    b.dataset.testid = name ? `account-${name}` : 'account-other';
    b.setAttribute('role', 'radio');
    b.textContent = label;
    b.addEventListener('click', () => this.pick(name, true));
    return b;
  }

  /** Select a demo account (or `null`: other), filling the fields when `fill`. */
  pick(name, fill) {
    this.account = name;
    for (const b of this.picker.children) {
      const mine = b.dataset.testid === (name ? `account-${name}` : 'account-other');
      b.setAttribute('aria-checked', String(mine));
    }
    if (!fill) return;
    const s = name ? demoSettings(this.config, name) : null;
    if (s) this.fill({ ...s, password: demoAccount(this.config, name).password });
    else {
      for (const id of ['user', 'password', 'name']) field(this.form, id).value = '';
      field(this.form, 'user').focus();
    }
  }

  /** Show the form filled with `s` (settings, maybe with a password). */
  show(s, message = '') {
    this.form.hidden = false;
    const demo = s?.account ? demoAccount(this.config, s.account) : null;
    this.fill({ ...(s || {}), password: demo ? demo.password : s?.password || '' });
    this.pick(demo ? s.account : null, false);
    this.error(message);
  }

  fill(s) {
    field(this.form, 'server').value = s.server || this.config.server || '';
    field(this.form, 'user').value = s.user || '';
    field(this.form, 'domain').value = s.domain || this.config.domain || '';
    field(this.form, 'password').value = s.password || '';
    field(this.form, 'name').value = s.displayName || '';
    field(this.form, 'ice').value = s.ice || '';
    field(this.form, 'remember').checked = Boolean(s.remember);
  }

  error(message) {
    const p = field(this.form, 'error');
    p.textContent = message;
    p.hidden = !message;
  }

  /** The form's values, checked; null (and a message) when something is wrong. */
  read() {
    const value = (id) => field(this.form, id).value.trim();
    let [user, domain] = [value('user'), value('domain')];
    if (user.includes('@')) [user, domain] = [user.slice(0, user.indexOf('@')), user.slice(user.indexOf('@') + 1)];
    const servers = value('server').split(/\s+/).filter(Boolean);
    const bad = servers.find((s) => !/^wss?:\/\/[^/\s]+/.test(s));
    const problem = !servers.length ? 'Enter the server, a ws:// or wss:// URL.'
      : bad ? `${bad} is not a ws:// or wss:// URL.`
        : !user ? 'Enter the user name.'
          : !domain ? 'Enter the SIP domain.' : '';
    this.error(problem);
    if (problem) return null;
    const server = servers.join(' ');
    return {
      account: this.account,
      server: server === this.config.server ? null : server,
      user, domain,
      password: field(this.form, 'password').value,
      displayName: value('name') || user,
      ice: value('ice'),
      remember: field(this.form, 'remember').checked,
    };
  }
}
