// Browser tests: many tabs of the demo in real Chromium (one BrowserContext =
// one browser profile = one SharedWorker), checking roles, state, actions and
// promotion after every way a real tab can go away.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import {
  BASE, RELAXED, closeWithoutHandlers, crash, dispatch, epochOf, launch, oneReal, openTab, roleOf, setFrozen, tabIdOf,
  workerUrl,
} from './lib/browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function tabs(n, options) {
  const context = await browser.newContext();
  const pages = [];
  for (let i = 0; i < n; i += 1) pages.push(await openTab(context, options));
  return { context, pages };
}

const others = (pages, page) => pages.filter((p) => p !== page && !p.isClosed());
// Fast liveness for the freeze tests (defaults: ping every 1 s, silent after 3 s).
const FAST = { worker: workerUrl({ pingInterval: 200, pingTimeout: 1000 }) };

describe('roles', () => {
  for (const n of [1, 3, 10]) {
    test(`${n} tab(s): exactly one real`, async () => {
      const { context, pages } = await tabs(n);
      const real = await oneReal(pages);
      assert.equal(real, pages[0], 'the first tab is real');
      // Every tab joined once: a tab that connected twice (say, it took the
      // worker for dead) would leave an extra live port in the count.
      for (const p of pages) await p.waitForFunction((k) => window.tabphone.tabs === k, n, { timeout: 5000 });
      assert.deepEqual(await Promise.all(pages.map(epochOf)), pages.map(() => 1), 'no promotion happened');
      const text = await pages[0].locator('[data-testid=role]').textContent();
      assert.equal(text, 'real');
      if (n > 1) assert.equal(await pages[1].locator('[data-testid=role]').textContent(), 'dummy');
      await context.close();
    });
  }
});

describe('loading', () => {
  test('a tab downloads the precompressed module and glue, and runs them', async () => {
    const { context, pages } = await tabs(1);
    await oneReal(pages);
    const entries = await pages[0].evaluate(() => performance.getEntriesByType('resource')
      .map(({ name, encodedBodySize, decodedBodySize }) => ({ name, encodedBodySize, decodedBodySize })));
    for (const file of ['tabphone_tab_bg.wasm', 'tabphone_tab.js']) {
      const entry = entries.find((e) => new URL(e.name).pathname === `/pkg/${file}`);
      assert.ok(entry, `${file} was loaded: ${JSON.stringify(entries)}`);
      const pkg = new URL('../demo/pkg/', import.meta.url);
      assert.equal(entry.encodedBodySize, statSync(new URL(`${file}.gz`, pkg)).size, `${file} came as its .gz`);
      assert.equal(entry.decodedBodySize, statSync(new URL(file, pkg)).size, `${file} decoded whole`);
    }
    await context.close();
  });
});

describe('state and actions', () => {
  test('a late tab gets the cached state', async () => {
    const { context, pages } = await tabs(2);
    await oneReal(pages);
    const r = await dispatch(pages[1], 'note', 'hello from a dummy');
    assert.deepEqual(r, { ok: { ok: true } });
    const late = await openTab(context);
    await late.waitForFunction(() => window.tabphone.state()?.note === 'hello from a dummy');
    assert.equal(await roleOf(late), 'dummy');
    await context.close();
  });

  test("an action from a dummy returns the real's result, to that dummy only", async () => {
    const { context, pages } = await tabs(3);
    const real = await oneReal(pages);
    const realId = await tabIdOf(real);
    const r = await dispatch(pages[2], 'echo', { to: 'bob' });
    assert.deepEqual(r.ok, { echo: { to: 'bob' }, by: realId });
    const failed = await dispatch(pages[1], 'fail', 'x');
    assert.equal(failed.error.code, 'handler_error');
    assert.match(failed.error.message, /failed on purpose/);
    const counter = await dispatch(pages[1], 'increment');
    assert.equal(counter.ok.by, realId);
    await pages[2].waitForFunction((c) => window.tabphone.state()?.counter === c, counter.ok.counter);
    await context.close();
  });
});

describe('promotion', () => {
  test('after a graceful close (pagehide)', async () => {
    const { context, pages } = await tabs(3);
    const real = await oneReal(pages);
    const epoch = await epochOf(real);
    const closedAt = await real.evaluate(() => performance.timeOrigin + performance.now());
    await real.close();
    const next = await oneReal(others(pages, real));
    assert.ok((await epochOf(next)) > epoch, 'the epoch grows');
    // The remaining dummy keeps the old real's state (its calls go on in the
    // successor, which inherits it) until the new real publishes: never a
    // null state in between.
    const dummy = others(pages, real).find((p) => p !== next);
    await dummy.waitForFunction((t) => window.tabphoneEvents.some((e) => e.type === 'state' && e.at > t), closedAt);
    const nulls = await dummy.evaluate((t) => window.tabphoneEvents.filter((e) => e.type === 'state'
      && e.state === null && e.at > t).length, closedAt);
    assert.equal(nulls, 0, 'the state is not cleared when the real closes with other tabs left');
    await context.close();
  });

  test('after a close without handlers (tab lock)', async () => {
    const { context, pages } = await tabs(3);
    const real = await oneReal(pages);
    await closeWithoutHandlers(real);
    await oneReal(others(pages, real));
    await context.close();
  });

  test('after the real crashes (CDP Page.crash)', async () => {
    const { context, pages } = await tabs(3);
    const real = await oneReal(pages);
    // The first tab created the worker; crashing it is the worker-restart
    // test below. Close it, then crash the real that took over.
    await real.close();
    const rest = others(pages, real);
    const second = await oneReal(rest);
    const survivors = [...rest.filter((p) => p !== second), await openTab(context)];
    await crash(context, second);
    await oneReal(survivors);
    await context.close();
  });

  test('after the real freezes; the thawed tab comes back as a dummy', async () => {
    const { context, pages } = await tabs(3, FAST);
    const real = await oneReal(pages);
    await setFrozen(context, real, true);
    const next = await oneReal(others(pages, real));
    await setFrozen(context, real, false);
    await real.waitForFunction(() => window.tabphone.role === 'dummy');
    assert.equal(await oneReal(pages), next, 'still exactly one real after the thaw');
    await context.close();
  });

  test('actions sent during a promotion are answered by the new real', async () => {
    const { context, pages } = await tabs(3);
    const real = await oneReal(pages);
    await real.close(); // `close` reaches the worker before the action below
    const rest = others(pages, real);
    const r = await dispatch(rest[1], 'echo', 'during promotion');
    const next = await oneReal(rest);
    assert.equal(r.ok?.by, await tabIdOf(next), JSON.stringify(r));
    await context.close();
  });

  test('actions sent once a frozen real is replaced are answered by the new real', async () => {
    const { context, pages } = await tabs(3, FAST);
    const real = await oneReal(pages);
    const asker = pages[2];
    const epoch = await epochOf(asker);
    await setFrozen(context, real, true);
    // The worker tells every dummy the new epoch when it promotes: act at once.
    await asker.waitForFunction((e) => window.tabphone.epoch > e, epoch);
    const r = await dispatch(asker, 'echo', 'after the freeze');
    const next = await oneReal(others(pages, real));
    assert.equal(r.ok?.by, await tabIdOf(next), JSON.stringify(r));
    await setFrozen(context, real, false);
    await context.close();
  });

  test('an action in flight to a real that freezes fails with real_gone', async () => {
    const { context, pages } = await tabs(3, FAST);
    const real = await oneReal(pages);
    await setFrozen(context, real, true);
    // Forwarded to the frozen real, which may or may not have run it: never replayed.
    const r = await dispatch(pages[2], 'echo', 'to a frozen real');
    assert.equal(r.error?.code, 'real_gone', JSON.stringify(r));
    await setFrozen(context, real, false);
    await context.close();
  });

  test('an action in flight when the real crashes fails with real_gone', async () => {
    const { context, pages } = await tabs(3);
    const real = await oneReal(pages);
    await real.close(); // the host stays alive: crash the second real, not the worker
    const rest = others(pages, real);
    const second = await oneReal(rest);
    const asker = rest.find((p) => p !== second);
    const pending = dispatch(asker, 'slow', 5000);
    await new Promise((r) => setTimeout(r, 300));
    await crash(context, second);
    const r = await pending;
    assert.equal(r.error?.code, 'real_gone', JSON.stringify(r));
    assert.equal(await oneReal([asker]), asker);
    await context.close();
  });
});

describe('worker restart', () => {
  // The tab that first creates the SharedWorker hosts it (the worker runs in
  // that tab's renderer): crashing that tab kills the worker too, and the
  // tabs start a new one.
  const roleEvents = (page) => page.evaluate(() => window.tabphoneEvents.filter((e) => e.type === 'role'));

  test('the real that hosts the worker crashes: the next real is chosen from the locks, not after a wait', async () => {
    // A one-minute ping timeout: a worker that waited for the old real rather
    // than seeing that nobody holds the real lock would not promote in time.
    const { context, pages } = await tabs(3, { worker: workerUrl({ pingTimeout: 60000 }) });
    const [host] = pages;
    assert.equal(await oneReal(pages), host, 'the first tab hosts the worker and is real');
    const epoch = await epochOf(host);
    const crashedAt = Date.now();
    await crash(context, host);
    const rest = pages.slice(1);
    const next = await oneReal(rest);
    const at = (await roleEvents(next)).find((e) => e.role === 'real').at;
    console.log(`# promotion after the crash of the real that hosts the worker: ${(at - crashedAt).toFixed(1)} ms`);
    assert.ok((await epochOf(next)) > epoch, 'the epoch grows across the restart');
    const r = await dispatch(rest.find((p) => p !== next), 'echo', 1);
    assert.equal(r.ok.by, await tabIdOf(next));
    await context.close();
  });

  test('the real stays real across a worker restart (no restart of the phone)', async () => {
    const { context, pages } = await tabs(3, FAST);
    const [host] = pages;
    await oneReal(pages);
    // Move the real role off the worker's host: freeze it until another tab takes over.
    await setFrozen(context, host, true);
    const real = await oneReal(pages.slice(1));
    await setFrozen(context, host, false);
    await host.waitForFunction(() => window.tabphone.role === 'dummy');
    const epoch = await epochOf(real);
    const starts = await real.locator('[data-testid=real-starts]').textContent();
    await crash(context, host);
    const dummy = pages.find((p) => p !== host && p !== real);
    // The dummy reconnects to a new worker and reaches the same real.
    let answer;
    for (let i = 0; i < 100 && !answer?.ok; i += 1) {
      answer = await dispatch(dummy, 'echo', i);
      if (!answer.ok) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(answer.ok.by, await tabIdOf(real));
    assert.equal(await oneReal([real, dummy]), real);
    assert.equal(await epochOf(real), epoch, 'same epoch: no promotion happened');
    assert.equal(await real.locator('[data-testid=real-starts]').textContent(), starts, 'phone not restarted');
    await context.close();
  });

  test('a frozen real is replaced when the worker dies before noticing the freeze', async () => {
    const { context, pages } = await tabs(3, FAST);
    const [host] = pages;
    await oneReal(pages);
    // Move the real off the worker's host, then freeze it and crash the host
    // at once: the old worker dies without having seen the real go silent.
    await setFrozen(context, host, true);
    const real = await oneReal(pages.slice(1));
    await setFrozen(context, host, false);
    await host.waitForFunction(() => window.tabphone.role === 'dummy');
    const other = pages.find((p) => p !== host && p !== real);
    await setFrozen(context, real, true);
    const crashedAt = Date.now();
    await crash(context, host);
    // The new real comes while the old one is still frozen: the new worker
    // steals the lock from a holder that never joined it.
    await other.waitForFunction(() => window.tabphone.role === 'real', null, { timeout: 15000 });
    const at = (await roleEvents(other)).filter((e) => e.role === 'real').pop().at;
    console.log(`# new real after a frozen real and a worker restart: ${(at - crashedAt).toFixed(1)} ms (ping timeout 1000 ms)`);
    await setFrozen(context, real, false);
    await real.waitForFunction(() => window.tabphone.role === 'dummy');
    assert.equal(await oneReal([real, other]), other, 'one real after the thaw');
    await context.close();
  });

  test('epochs go on across a worker restart and never go back in any tab', async () => {
    const { context, pages } = await tabs(3, FAST);
    const [host] = pages;
    await oneReal(pages);
    await setFrozen(context, host, true); // epoch 2: the real moves off the host
    await oneReal(pages.slice(1));
    await setFrozen(context, host, false);
    await host.waitForFunction(() => window.tabphone.role === 'dummy');
    await crash(context, host); // a restart that keeps the real
    const rest = pages.slice(1);
    const real = await oneReal(rest);
    const epoch = await epochOf(real);
    assert.ok(epoch >= 2, `epoch ${epoch}`);
    await real.close(); // a promotion in the new worker
    const last = rest.find((p) => p !== real);
    await last.waitForFunction((e) => window.tabphone.role === 'real' && window.tabphone.epoch > e, epoch);
    const late = await openTab(context, FAST);
    assert.equal(await epochOf(late), await epochOf(last), 'a new tab shows the current epoch');
    for (const page of [last, late]) {
      const seen = (await roleEvents(page)).filter((e) => e.role !== 'connecting').map((e) => e.epoch);
      assert.ok(seen.every((e, i) => e >= 1 && (i === 0 || e >= seen[i - 1])), `epochs seen: ${seen}`);
    }
    await context.close();
  });
});

describe('robustness', () => {
  test('bad messages get errors and the worker stays up', async () => {
    const { context, pages } = await tabs(2);
    await oneReal(pages);
    const replies = await pages[1].evaluate(async (url) => {
      const w = new SharedWorker(url, { type: 'module', name: 'tabphone:tabphone-demo' });
      const heard = [];
      w.port.onmessage = (e) => heard.push(JSON.parse(e.data));
      w.port.start();
      const send = (m) => w.port.postMessage(m);
      send('not json');
      send({ an: 'object' });
      send(JSON.stringify({ t: 'action', id: 9, name: 'x' }));
      // A tab holds its life-long lock; without it the worker would drop the port as dead.
      await new Promise((granted) => {
        navigator.locks.request('tabphone:tab:intruder', () => { granted(); return new Promise(() => {}); });
      });
      send(JSON.stringify({ t: 'hello', v: 1, tab: 'intruder' }));
      send(JSON.stringify({ t: 'teleport' }));
      send(JSON.stringify({ t: 'sync', epoch: 1, state: 'x'.repeat(2 * 1024 * 1024) }));
      send(JSON.stringify({ t: 'sync', epoch: 99, state: {} }));
      send(JSON.stringify({ t: 'result', id: 1, ok: true }));
      // Wait for the seven answers (bounded), not for a fixed time.
      const errors = () => heard.filter((m) => m.t === 'error').map((m) => m.code);
      for (let i = 0; i < 200 && errors().length < 7; i += 1) await new Promise((r) => setTimeout(r, 50));
      return errors();
    }, RELAXED);
    assert.deepEqual(replies, ['malformed', 'malformed', 'not_joined', 'unknown_type', 'too_large', 'not_real', 'not_real']);
    const r = await dispatch(pages[1], 'echo', 'still up');
    assert.equal(r.ok.echo, 'still up');
    await context.close();
  });

  test('two worker script URLs still give one real', async () => {
    const context = await browser.newContext();
    const v1 = { worker: workerUrl({ pingTimeout: 10000 }, 'v=1') };
    const v2 = { worker: workerUrl({ pingTimeout: 10000 }, 'v=2') };
    const pages = [await openTab(context, v1), await openTab(context, v2), await openTab(context, v1),
      await openTab(context, v2)];
    const real = await oneReal(pages);
    assert.equal(real, pages[0]);
    await real.close();
    await oneReal(others(pages, real));
    await context.close();
  });
});

test('the demo page serves', async () => {
  const res = await fetch(`${BASE}/index.html`);
  assert.equal(res.status, 200);
});
