// The plugin state shared by the supervisor (main thread) and every worker's PluginHost: one
// SharedArrayBuffer of Float64 slots, one writer per 64-byte line (plain stores: the readers are a
// watchdog and stats, which tolerate a value one burst old).
//
//  line 0 .. P-1                plugin p: [0] quarantined (0/1) [1] quarantined at (ms) [2] timeouts
//  line P .. P+W-1              worker w heartbeat: [0] busy (1) or idle (0) [1] plugin index + 1
//                               in its hands [2] burst sequence [3] metaList [4] count
//                               (no clock in the hot path: the watchdog times how long one
//                               sequence number stays busy)
//  then P×W blocks of 4 lines   (plugin p, worker w) counters: see COUNTER below
//  then P×W blocks of 512 bytes (plugin p, worker w) last error, written by worker w only, under a
//                               sequence lock: i32 [0] sequence (odd while written) [1] trap kind
//                               index [2] message bytes, then the message (UTF-8, cut to fit)
//
// Times (quarantined at) are performance.timeOrigin + performance.now() (ms): comparable across threads.

export const SLOTS_PER_LINE = 8;
export const COUNTER = {
  packets: 0,
  records: 1,
  traps: 2,
  restarts: 3,
  errors: 4,
  drops: 5,
  bypassed: 6,
  /** 0 running, 1 restarting (backing off), 2 quarantined. */
  state: 7,
  trapUnreachable: 8,
  trapOutOfBounds: 9,
  trapArithmetic: 10,
  trapStackOverflow: 11,
  trapAbort: 12,
  trapOther: 13,
  recordsLost: 14,
  /** When this worker last saw the plugin fail (ms, as `now()`; 0 never): the stats show the latest. */
  lastErrorAt: 15,
  /** wirewasm.counter_add ids 0..USER_COUNTERS-1 land at user + id. */
  user: 16,
} as const;
export const USER_COUNTERS = 16;
export const COUNTER_SLOTS = 32;
export const TRAP_KINDS = ['unreachable', 'out-of-bounds', 'arithmetic', 'stack-overflow', 'abort', 'other'] as const;
export type TrapKind = (typeof TRAP_KINDS)[number];
export const TRAP_SLOT: Record<TrapKind, number> = {
  unreachable: COUNTER.trapUnreachable,
  'out-of-bounds': COUNTER.trapOutOfBounds,
  arithmetic: COUNTER.trapArithmetic,
  'stack-overflow': COUNTER.trapStackOverflow,
  abort: COUNTER.trapAbort,
  other: COUNTER.trapOther,
};

export const now = (): number => performance.timeOrigin + performance.now();

export const ERROR_BYTES = 512;
const ERROR_HEADER = 12;

/** A plugin's last failure: the trap kind and the engine's message (its cause). */
export interface PluginError {
  kind: TrapKind;
  message: string;
}

export class PluginState {
  readonly f64: Float64Array;
  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly plugins: number,
    readonly workers: number,
  ) {
    this.f64 = new Float64Array(buffer);
  }
  static create(plugins: number, workers: number): PluginState {
    const lines = plugins + workers + plugins * workers * (COUNTER_SLOTS / SLOTS_PER_LINE);
    return new PluginState(new SharedArrayBuffer(lines * 64 + plugins * workers * ERROR_BYTES), plugins, workers);
  }
  /** Byte offset of the (plugin p, worker w) last-error block. */
  private errorBlock(p: number, w: number): number {
    return (this.plugins + this.workers) * 64 + this.plugins * this.workers * COUNTER_SLOTS * 8 + (p * this.workers + w) * ERROR_BYTES;
  }
  /** Worker w records why plugin p failed (not the hot path: on a failure only). */
  writeError(p: number, w: number, e: PluginError): void {
    const at = this.errorBlock(p, w);
    const i32 = new Int32Array(this.buffer, at, 3);
    const text = new TextEncoder().encodeInto(e.message, new Uint8Array(this.buffer, at + ERROR_HEADER, ERROR_BYTES - ERROR_HEADER));
    Atomics.add(i32, 0, 1);
    Atomics.store(i32, 1, TRAP_KINDS.indexOf(e.kind));
    Atomics.store(i32, 2, text.written);
    Atomics.add(i32, 0, 1);
    this.f64[this.counters(p, w) + COUNTER.lastErrorAt] = now();
  }
  /** The last failure of plugin p in worker w, or undefined; retried while the worker is writing it. */
  readError(p: number, w: number): PluginError | undefined {
    const at = this.errorBlock(p, w);
    const i32 = new Int32Array(this.buffer, at, 3);
    for (;;) {
      const seq = Atomics.load(i32, 0);
      if (seq === 0) return undefined;
      const kind = TRAP_KINDS[Atomics.load(i32, 1)] ?? 'other';
      const message = new TextDecoder().decode(new Uint8Array(this.buffer, at + ERROR_HEADER, Math.min(Atomics.load(i32, 2), ERROR_BYTES - ERROR_HEADER)).slice());
      if (seq % 2 === 0 && Atomics.load(i32, 0) === seq) return { kind, message };
    }
  }
  plugin(p: number): number {
    return p * SLOTS_PER_LINE;
  }
  heartbeat(w: number): number {
    return (this.plugins + w) * SLOTS_PER_LINE;
  }
  counters(p: number, w: number): number {
    return (this.plugins + this.workers) * SLOTS_PER_LINE + (p * this.workers + w) * COUNTER_SLOTS;
  }
  quarantined(p: number): boolean {
    return this.f64[this.plugin(p)] !== 0;
  }
  quarantine(p: number): void {
    const at = this.plugin(p);
    if (this.f64[at] === 0) this.f64[at + 1] = now();
    this.f64[at] = 1;
  }
}
