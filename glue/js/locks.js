// Web Locks for tabphone's wasm glue (web-sys gates LockManager behind an
// unstable cfg). holdLock asks for a lock and holds it until the returned
// function is called; onGranted runs once when it is held, onLost when the
// request fails or a held lock is stolen. Neither runs after release.
// queryLocks calls onDone once with navigator.locks.query()'s answer as
// [held, pending], each a flat list (see flat), or with null.
export function holdLock(name, shared, steal, onGranted, onLost) {
  const ctl = steal ? null : new AbortController();
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let done = false;
  const options = { mode: shared ? 'shared' : 'exclusive', steal };
  if (ctl) options.signal = ctl.signal;
  navigator.locks.request(name, options, () => {
    if (done) return undefined;
    // Out of the lock manager's callback, so the handler may drop this handle.
    queueMicrotask(() => { if (!done) onGranted(); });
    return held;
  }).catch((e) => {
    if (!done) {
      done = true;
      queueMicrotask(() => onLost(String(e && e.name || e)));
    }
  });
  return () => {
    done = true;
    release();
    if (ctl) ctl.abort();
  };
}

export function queryLocks(onDone) {
  const str = (x) => (typeof x == 'string' ? x : '');
  // Each LockInfo as name, clientId, whether shared, one after the other.
  const flat = (list) => (Array.isArray(list) ? list : []).flatMap((l) => [str(l?.name), str(l?.clientId), l?.mode == 'shared']);
  navigator.locks.query().then((s) => onDone([flat(s?.held), flat(s?.pending)]), () => onDone(null));
}
