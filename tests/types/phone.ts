// Type check of the generated typings (`cargo xtask build` writes demo/pkg):
// the options, the state, each action's arguments and result, each event.
// `@ts-expect-error` lines must fail to compile: the types are precise, not `any`.
import { TabPhone, PhoneError, PhoneState } from '../../demo/pkg/tabphone_tab.js';

const phone = TabPhone.connect('./pkg/worker.js', {
  app: 'demo',
  sip: { servers: ['ws://127.0.0.1:5066'], user: 'alice', password: 'x', domain: '127.0.0.1', traceSip: true },
  media: { keepWarm: false, gathering: { settleMs: 20 } },
});
phone.on('incoming', ({ call, peer }) => console.log(call, peer.uri, peer.name?.length));
phone.on('callEnded', (e) => { if (e.cause === 'failed') console.log(e.status.toFixed()); });
phone.on('registration', (r) => { if (r.state === 'registered') console.log(r.expires + r.bindings); });
phone.on('connection', (c) => { if (c.state === 'recovering') console.log(c.nextTry ?? c.cause); });
phone.on('audioBlocked', ({ blocked }) => blocked === true);
phone.on('trace', (line) => line.toUpperCase());
phone.on('role', ({ role, epoch }) => role === 'real' && epoch > 0);
// The getters (browser.js defines them; typings.rs types them): read-only.
const r: 'connecting' | 'dummy' | 'real' | 'closed' = phone.role;
console.log(r, phone.epoch.toFixed(), phone.tabId.length, phone.tabs.toFixed(), phone.instanceId.length);
// @ts-expect-error read-only
phone.role = 'real';
phone.on('state', (s: PhoneState | null) => s?.calls.forEach((c) => c.held.local && c.state === 'established'));

export async function use(): Promise<void> {
  const { call } = await phone.call('bob');
  await phone.hold(call);
  await phone.dtmf(call, '12#', { via: 'info' });
  await phone.dtmf(call, '1');
  await phone.decline(call);
  await phone.decline(call, 486);
  await phone.attendedTransfer(call, 'other');
  const { status } = await phone.message('bob', 'hi');
  const { epoch }: { epoch: number } = await phone.takeOver();
  const c0 = phone.state()?.calls[0];
  const moved: number | undefined = c0?.handovers;
  const resuming: boolean | undefined = c0?.resuming;
  const { expires } = await phone.register();
  const r = await phone.dispatch('message', { to: 'bob', text: 'hi' });
  console.log(status + expires + r.status, epoch, moved, resuming);
  const custom: unknown = await phone.dispatch('custom', 1);
  console.log(custom);
  try {
    await phone.answer(call);
  } catch (e) {
    const { code, message } = e as PhoneError;
    console.log(code === 'no_such_call', message);
  }
  const s = phone.state();
  if (s) console.log(s.registration.state, s.audioBlocked, s.ended.map((e) => e.cause));
  // @ts-expect-error: call takes a target
  await phone.call();
  // @ts-expect-error: the arguments of a known action are checked
  await phone.dispatch('hangup', { to: 'bob' });
  // @ts-expect-error: a result has its type
  const n: number = (await phone.call('bob')).call;
  console.log(n);
}
// @ts-expect-error: not an event
phone.on('nope', () => {});
// @ts-expect-error: a detail has its type
phone.on('audioBlocked', (d: { blocked: string }) => d);
// @ts-expect-error: tones are needed
phone.dtmf('c');
// @ts-expect-error: options are checked
TabPhone.connect('./pkg/worker.js', { sip: { servers: 'ws://x', user: 'a', domain: 'd' } });
