// Before sign-in the tabs of the page still share one real tab: its action
// handler keeps a counter and a note in the shared state, and every tab can ask
// it to act. This is the tab coordination on its own (the browser tests of
// roles and promotion, and the tabs benchmark, drive it).

/** Install the handler on `phone` (not signed in); `ui`: {$(id), act(label, key, fn)}. */
export function startLobby(phone, ui) {
  let state = { counter: 0, note: '' };
  // The last state a real published: a new real carries the counter on.
  let lastSeen = null;
  phone.on('role', ({ role }) => {
    if (role !== 'real') return;
    // A new real starts empty; the demo carries the counter on and shares it.
    if (lastSeen && typeof lastSeen === 'object') state = { counter: 0, note: '', ...lastSeen };
    phone.publish(state);
  });
  phone.on('state', (s) => { if (s !== null) lastSeen = s; });
  phone.setActionHandler(async (name, args) => {
    switch (name) {
      case 'increment':
        state = { ...state, counter: state.counter + 1 };
        phone.publish(state);
        return { counter: state.counter, by: phone.tabId };
      case 'echo':
        return { echo: args, by: phone.tabId };
      case 'note':
        state = { ...state, note: String(args) };
        phone.publish(state);
        return { ok: true };
      case 'slow':
        await new Promise((r) => setTimeout(r, Number(args) || 100));
        return { by: phone.tabId };
      case 'fail':
        throw new Error(`failed on purpose: ${args}`);
      default:
        throw new Error(`unknown action ${name}`);
    }
  });
  const act = (name, args) => ui.act(name, null, () => phone.dispatch(name, args));
  const on = (id, f) => document.getElementById(id).addEventListener('click', f);
  on('increment', () => act('increment'));
  on('echo', () => act('echo', { at: Date.now() }));
  on('publish', () => act('note', document.getElementById('note').value));
}
