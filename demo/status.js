// Words for the phone's status: connection, registration, this tab's role,
// blocked sound. Each status is {state, text, title, problem?}: `state` is
// the testable value (the pills' data-state), `problem` a sentence for the
// notice banner.

const CAUSES = {
  not_started: 'not started', socket_closed: 'connection closed', connect_timeout: 'connection timed out',
  no_pong: 'server stopped answering', requested: 'reconnecting', recovery_failed: 'gave up reconnecting',
  stopped: 'stopped', handed_over: 'handed over to another tab', other: 'other',
};

const cause = (c) => CAUSES[c] || c || 'unknown';

/** The connection of a state (`null`: no real phone has published yet). */
export function connectionStatus(state) {
  const c = state?.connection;
  if (!c) return { state: 'starting', text: 'starting…', title: 'Waiting for the real tab of this browser' };
  const offline = state.online === false ? ' (browser offline)' : '';
  switch (c.state) {
    case 'connecting':
      return { state: c.state, text: 'connecting…', title: c.url };
    case 'connected':
      return { state: c.state, text: 'connected', title: `Connected to ${c.url}` };
    case 'recovering': {
      const wait = c.nextTry ? Math.max(0, Math.ceil((c.nextTry - Date.now()) / 1000)) : 0;
      return {
        state: c.state, text: wait ? `reconnecting in ${wait} s${offline}` : `reconnecting…${offline}`,
        title: cause(c.cause),
      };
    }
    case 'disconnected':
      return {
        state: c.state, text: `disconnected${offline}`, title: cause(c.cause),
        problem: c.cause === 'recovery_failed' ? 'Lost the connection to the SIP server and gave up reconnecting.'
          : undefined,
      };
    default:
      return { state: String(c.state), text: String(c.state), title: '' };
  }
}

/** The registration of a state. */
export function registrationStatus(state) {
  const r = state?.registration;
  if (!r) return { state: 'starting', text: '—', title: '' };
  switch (r.state) {
    case 'registered': {
      const bindings = r.bindings > 1 ? `, ${r.bindings} devices` : '';
      return { state: r.state, text: `registered${bindings}`, title: `Expires every ${r.expires} s` };
    }
    case 'failed': {
      const why = r.status ? `${r.status}` : 'no answer';
      const hint = r.status === 401 || r.status === 403 || r.status === 407
        ? ': check the user name, password and domain.' : '.';
      return {
        state: r.state, text: `registration failed (${why})`, title: '',
        problem: `The server refused the registration (${why})${hint}`,
      };
    }
    case 'unregistered':
      return { state: r.state, text: 'not registered', title: '' };
    default:
      return { state: String(r.state), text: String(r.state), title: '' };
  }
}

/** A sentence about this tab's role. */
export function roleHint(mode, role) {
  if (role === 'real') {
    return mode === 'phone'
      ? 'This tab is the phone of this browser: it holds the connection and plays the sound.'
      : 'This tab is the real one (not signed in: it keeps the shared counter).';
  }
  if (role === 'dummy') {
    return mode === 'phone'
      ? 'Another tab of this browser is the phone; this one shows its calls and drives them.'
      : 'Another tab is the real one; this one mirrors it.';
  }
  return 'Joining the other tabs of this browser…';
}

/** The blocked-sound banner's sentence for a tab of this role. */
export function audioText(role) {
  return role === 'real'
    ? 'The browser blocked the sound of the call in this tab.'
    : 'The browser blocked the sound of the call in the tab that plays it (the real tab of this browser): '
      + 'move the call here (your click lets this tab play it), or click anywhere in that tab.';
}
