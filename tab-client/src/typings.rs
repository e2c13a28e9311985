//! TypeScript typings for [`crate::TabPhone`] beyond what wasm-bindgen
//! derives: the options, the state (`tabphone_phone::state`, version 1),
//! the actions with their arguments and results, and the events. They go
//! into the generated `tabphone_tab.d.ts`; `TabPhone`'s `on` and `dispatch`
//! are declared here (interface merging) with their precise types, and its
//! action methods (`browser.js`'s).
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** One STUN or TURN server. */
export interface IceServerOptions { urls: string | string[]; username?: string; credential?: string; }
/** The SIP account. Every tab is given the same; only the real tab uses it; it never leaves the tab. */
export interface SipOptions {
  servers: string | string[];
  user: string;
  password: string;
  domain: string;
  displayName?: string;
  iceServers?: IceServerOptions[];
  traceSip?: boolean;
  /** Registration expiry to ask for, seconds (default 600). */
  expires?: number;
}
/** Media settings of the real tab. */
export interface MediaOptions {
  iceServers?: IceServerOptions[];
  /** Keep a prepared call (microphone and gathered offer) ready after each call (default true). */
  keepWarm?: boolean;
  gathering?: { settleMs?: number; maxMs?: number; waitForComplete?: boolean };
  inputDevice?: string;
  outputDevice?: string;
  echoCancellation?: boolean;
  noiseSuppression?: boolean;
  autoGainControl?: boolean;
}
export interface ConnectOptions {
  /** Tabs of one app share one real phone (default "tabphone"). */
  app?: string;
  tabId?: string;
  /** The SIP phone; without it the real tab runs the app's action handler (setActionHandler). */
  sip?: SipOptions;
  media?: MediaOptions;
}

export type DisconnectCause = 'not_started' | 'socket_closed' | 'connect_timeout' | 'no_pong' | 'requested'
  | 'recovery_failed' | 'stopped' | 'handed_over' | 'other';
export type Connection =
  | { state: 'connecting'; url: string }
  | { state: 'connected'; url: string }
  | { state: 'recovering'; cause: DisconnectCause; nextTry: number | null }
  | { state: 'disconnected'; cause: DisconnectCause };
export type Registration =
  | { state: 'unregistered' }
  | { state: 'registered'; expires: number; bindings: number; at: number }
  | { state: 'failed'; status: number | null };
export type CallState = 'initial' | 'establishing' | 'ringing' | 'established' | 'terminating';
export interface Peer { uri: string; name: string | null; }
export interface DialogState {
  callId: string; localTag: string; remoteTag: string; localUri: string; remoteUri: string;
  localCseq: number; remoteCseq: number | null; remoteTarget: string; routeSet: string[];
}
export interface CallView {
  id: string;
  direction: 'incoming' | 'outgoing';
  peer: Peer;
  state: CallState;
  held: { local: boolean; remote: boolean };
  muted: boolean;
  startedAt: number;
  answeredAt: number | null;
  replaces: string | null;
  dialog: DialogState | null;
  /** How many times a new real tab took the call over. */
  handovers: number;
  /** A new real tab is taking the call over right now (its re-INVITE is not answered yet). */
  resuming: boolean;
  /** This side's DTLS role (from the last answer; null before one): a successor's offer claims it again. */
  dtls: 'active' | 'passive' | null;
}
export type EndCause =
  | { cause: 'local' | 'remote' | 'timeout' | 'transport' | 'media_failed' | 'transferred' | 'replaced' | 'handed_over'
      | 'expired' | 'not_resumable' }
  | { cause: 'declined' | 'failed' | 'resume_failed'; status: number };
export type EndedCall = { id: string; at: number } & EndCause;
/** The shared state the real tab publishes, version 1 (times are Unix ms). */
export interface PhoneState {
  v: 1;
  rev: number;
  aor: string;
  online: boolean;
  audioBlocked: boolean;
  connection: Connection;
  registration: Registration;
  calls: CallView[];
  ended: EndedCall[];
}

export type ErrorCode =
  | 'unknown_action' | 'bad_arguments' | 'no_such_call' | 'wrong_state' | 'not_registered' | 'not_connected'
  | 'request_failed' | 'media_failed' | 'call_ended' | 'timeout' | 'stopped' | 'unsupported'
  | 'real_gone' | 'queue_full' | 'not_joined' | 'malformed' | 'too_large' | 'worker_gone' | 'not_real'
  | 'handler_error' | 'no_handler' | 'bad_options';
/** How an action fails (the promise rejects with it). */
export interface PhoneError { code: ErrorCode; message: string; status?: number; }

export type Empty = Record<string, never>;
/** Every action: its arguments and its result. */
export interface PhoneActions {
  call: { args: { to: string; headers?: Record<string, string> }; result: { call: string } };
  answer: { args: { call: string }; result: Empty };
  decline: { args: { call: string; status?: number }; result: Empty };
  hangup: { args: { call: string }; result: Empty };
  hold: { args: { call: string }; result: Empty };
  unhold: { args: { call: string }; result: Empty };
  mute: { args: { call: string }; result: Empty };
  unmute: { args: { call: string }; result: Empty };
  dtmf: { args: { call: string; tones: string; via?: 'rtp' | 'info'; duration?: number }; result: Empty };
  transfer: { args: { call: string; to: string }; result: Empty };
  attendedTransfer: { args: { call: string; with: string }; result: Empty };
  message: { args: { to: string; text: string }; result: { status: number } };
  register: { args: null | undefined; result: { expires: number } };
  unregister: { args: null | undefined; result: Empty };
}

/** What each event's listener receives. */
export interface TabPhoneEventMap {
  role: { role: 'connecting' | 'dummy' | 'real' | 'closed'; epoch: number };
  tabs: number;
  state: PhoneState | null;
  error: { code: string; message: string; call?: string | null };
  incoming: { call: string; peer: Peer; replaces: string | null };
  callEnded: { call: string } & EndCause;
  registration: Registration;
  connection: Connection;
  audioBlocked: { blocked: boolean };
  /** Real tab only, with sip.traceSip. */
  trace: string;
  /** A tone received by SIP INFO (every tab: the real relays it). */
  dtmf: { call: string; tone: string; durationMs: number };
  /** A SIP MESSAGE received (every tab: the real relays it). */
  message: { from: string; contentType: string; body: string };
  /** The peer asked for a transfer (every tab: the real relays it). */
  transferRequested: { call: string; to: string; newCall: string | null };
  /** Our transfer's progress (every tab: the real relays it). */
  transferProgress: { call: string; status: number };
}

export interface TabPhone {
  /** `"connecting"`, `"dummy"`, `"real"` or `"closed"`. */
  readonly role: 'connecting' | 'dummy' | 'real' | 'closed';
  /** Epoch of the current real (grows on every promotion). */
  readonly epoch: number;
  /** This tab's id. */
  readonly tabId: string;
  /** Number of live tabs, as the worker last said. */
  readonly tabs: number;
  /** This browser's SIP instance id for the app (kept in `localStorage` as `tabphone:instance:<app>`): the same in every tab. */
  readonly instanceId: string;
  /** Listen to an event, in this tab. */
  on<K extends keyof TabPhoneEventMap>(event: K, callback: (detail: TabPhoneEventMap[K]) => void): void;
  /** Perform an action on the real phone, wherever it is; rejects with a PhoneError. */
  dispatch<K extends keyof PhoneActions>(name: K, args: PhoneActions[K]['args']): Promise<PhoneActions[K]['result']>;
  /** Without sip options: any other action the app's handler knows. */
  dispatch<N extends string>(name: N extends keyof PhoneActions ? never : N, args?: unknown): Promise<unknown>;
  /** Call `to` (a user at the account's domain or a SIP URI). */
  call(to: string): Promise<{ call: string }>;
  /** Answer a ringing incoming call; resolves when it is established. */
  answer(call: string): Promise<Empty>;
  /** Refuse a ringing incoming call with `status` (300-699, default 603). */
  decline(call: string, status?: number): Promise<Empty>;
  /** Hang up: cancel, refuse or BYE, as the call's state needs. */
  hangup(call: string): Promise<Empty>;
  /** Put an established call on hold; resolves when the peer agreed. */
  hold(call: string): Promise<Empty>;
  /** Take a call off hold. */
  unhold(call: string): Promise<Empty>;
  /** Mute the microphone of a call. */
  mute(call: string): Promise<Empty>;
  /** Unmute it. */
  unmute(call: string): Promise<Empty>;
  /** Send DTMF tones (`0-9 A-D * #`, and `,` for a pause in RTP), in the media (default) or by SIP INFO. */
  dtmf(call: string, tones: string, options?: { via?: 'rtp' | 'info'; duration?: number }): Promise<Empty>;
  /** Blind transfer: ask the peer of `call` to call `to`. */
  transfer(call: string, to: string): Promise<Empty>;
  /** Attended transfer: the peer of `call` replaces call `other`. */
  attendedTransfer(call: string, other: string): Promise<Empty>;
  /** Send a text message. */
  message(to: string, text: string): Promise<{ status: number }>;
  /** Register now (or refresh); resolves with the granted expiry. */
  register(): Promise<{ expires: number }>;
  /** Remove this browser's binding. */
  unregister(): Promise<Empty>;
}
"#;
