// PluginHost: runs the plugins inside one engine worker, once per burst. It gathers each plugin's
// packets with the engine's pluginGather (one WASM call), copies them into an isolated plugin's
// memory with one copy, calls the plugin once (wirewasm_on_burst) or per packet, and writes the
// verdicts back. A trap costs the plugin its instance, never the worker: it is caught, counted,
// and the plugin restarts from a fresh instance after a back-off, or is quarantined.
import type { EngineExports } from '../abi.js';
import { ABI, ABI_META_BYTES, COPY_MODES, VERDICT_DROP, VERDICT_PASS } from './abi.js';
import type { LoadedPlugin } from './load.js';
import { SpanCopier } from '../span-copy.js';
import { CounterTotals } from './counters.js';
import { COUNTER, now, PluginState, TRAP_SLOT, USER_COUNTERS, type TrapKind } from './state.js';

/** A record a plugin emitted with wirewasm.emit. */
export interface PluginRecord {
  plugin: string;
  kind: number;
  bytes: Uint8Array;
  /** The packet it came from; null when a burst-mode plugin emitted bytes outside any packet. */
  metadata: { worker: number; packet: number; ptype: number; flowHash: number; timestampNs: bigint; queue: number; mark: number } | null;
}

interface PluginExports {
  memory?: WebAssembly.Memory;
  wirewasm_input(capacity: number): number;
  wirewasm_on_packet(ptr: number, len: number, meta: number): number;
  wirewasm_on_burst?(count: number, metas: number): number;
  wirewasm_init?(): number;
  wirewasm_on_tick?(nowNs: bigint): void;
}

export interface PluginHostOptions {
  /** The engine's shared memory. */
  memory: WebAssembly.Memory;
  /** This worker's engine instance (needs the pluginGather export). */
  engine: EngineExports;
  plugins: LoadedPlugin[];
  /** From PluginSupervisor.state (shared with the main thread's watchdog and stats). */
  state: SharedArrayBuffer;
  worker: number;
  workers: number;
  /** This worker's own slice of the scratch region: {offset, size}, 64-byte aligned, >= 64 KiB advised. */
  scratch: { offset: number; size: number };
  /** Largest burst processBurst takes in one piece (longer ones are split). Default 256. */
  maxBurst?: number;
  /** Records kept until takeRecords(); past it they are counted as lost. Default 65536. */
  maxRecords?: number;
  /**
   * Takes each emitted record in place instead of keeping it for takeRecords(): the record is
   * bytes[at, at + len), `bytes` a view of the memory the plugin wrote it in (its own, or the
   * engine's when trusted), valid during the call only. Nothing is allocated per emit, and no
   * metadata is looked up. What it throws is thrown by the processBurst or tick it was called in,
   * once that call is done (the plugin is not blamed for it).
   */
  onRecord?: (kind: number, bytes: Uint8Array, at: number, len: number, plugin: number) => void;
  /** Where wirewasm.log lines go. Default: stderr, the first 100 per plugin. */
  onLog?: (plugin: string, level: number, message: string) => void;
}

/** Thrown by env.abort: a trap of kind "abort" with the plugin's message. */
class PluginAbort extends Error {}
/** Thrown by an import the plugin called with bad arguments (e.g. bytes outside its memory). */
class PluginFault extends Error {}

export function trapKind(e: unknown): TrapKind {
  if (e instanceof PluginAbort) return 'abort';
  if (e instanceof PluginFault) return 'out-of-bounds';
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof RangeError && /call stack/i.test(msg)) return 'stack-overflow';
  if (e instanceof WebAssembly.RuntimeError) {
    if (/unreachable/i.test(msg)) return 'unreachable';
    if (/out of bounds/i.test(msg)) return 'out-of-bounds';
    if (/divi|remainder|overflow/i.test(msg)) return 'arithmetic';
  }
  return 'other';
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf16 = new TextDecoder('utf-16le', { fatal: false });

/** One plugin in this worker: its instance (if any) and its failure bookkeeping. */
class Slot {
  inst: PluginExports | null = null;
  mem: WebAssembly.Memory | null = null;
  bytes: Uint8Array | null = null;
  i32: Int32Array | null = null;
  input = 0;
  /** Copies each burst's gathered packets into its input region (no view object per burst). */
  readonly inputCopy = new SpanCopier();
  failures: number[] = [];
  consecutive = 0;
  restartAt = 0;
  logs = 0;
  lastError = '';
  /** Its counter_add totals (kept across restarts). */
  totals: CounterTotals | null = null;
  /**
   * The totals of ids 0..USER_COUNTERS-1 last added to the shared stats. The stats get the
   * difference, not the totals: a replacement worker's host starts its totals from 0, and the
   * stats must keep what the worker it replaces counted.
   */
  readonly published = new Float64Array(USER_COUNTERS);
  constructor(
    readonly p: number,
    readonly spec: LoadedPlugin,
    readonly counters: number,
  ) {}
}

export class PluginHost {
  private readonly gather: EngineExports['pluginGather'];
  private readonly st: PluginState;
  private readonly f64: Float64Array;
  private readonly slots: Slot[];
  private readonly hb: number;
  private u8: Uint8Array;
  private u32: Uint32Array;
  private i32: Int32Array;
  private readonly out: number;
  private readonly sel: number;
  private readonly pos: number;
  private readonly area: number;
  private readonly areaBytes: number;
  private readonly maxBurst: number;
  private readonly maxRecords: number;
  private records: PluginRecord[] = [];
  private seq = 0;
  private metaBase = 0;
  /** Index in the caller's burst of the first packet of the piece in progress (bursts > maxBurst). */
  private chunk = 0;
  // What the imports need to know about the call in progress.
  private cur: Slot | null = null;
  private curPacket = -1;
  private curMetaList = 0;
  private curCount = 0;
  /** The first error thrown by onRecord during the burst in progress. */
  private recordError: unknown = null;

  constructor(private readonly opts: PluginHostOptions) {
    const g = (opts.engine as Partial<EngineExports>).pluginGather;
    if (typeof g !== 'function') throw new Error('PluginHost: the engine instance has no pluginGather export; rebuild the engine (npm run build:wasm)');
    this.gather = g;
    this.st = new PluginState(opts.state, opts.plugins.length, opts.workers);
    this.f64 = this.st.f64;
    this.hb = this.st.heartbeat(opts.worker);
    this.maxBurst = opts.maxBurst ?? 256;
    this.maxRecords = opts.maxRecords ?? 65536;
    const { offset, size } = opts.scratch;
    const fixed = 64 + 8 * this.maxBurst;
    if (offset % 64 !== 0 || size < fixed + 4096)
      throw new Error(`PluginHost: scratch {offset ${offset}, size ${size}} must be 64-byte aligned and hold at least ${fixed + 4096} bytes for maxBurst ${this.maxBurst}; give the layout scratchBytes`);
    this.out = offset;
    this.sel = offset + 64;
    this.pos = this.sel + 4 * this.maxBurst;
    this.area = (this.pos + 4 * this.maxBurst + 63) & ~63;
    this.areaBytes = offset + size - this.area;
    this.u8 = new Uint8Array(opts.memory.buffer);
    this.u32 = new Uint32Array(opts.memory.buffer);
    this.i32 = new Int32Array(opts.memory.buffer);
    this.slots = opts.plugins.map((spec, p) => new Slot(p, spec, this.st.counters(p, opts.worker)));
    for (const s of this.slots) if (!this.st.quarantined(s.p)) this.start(s);
    this.leave();
  }

  /**
   * Runs every plugin over the burst: `metaList` is the address of `count` u32 metadata-record
   * addresses, or of `count` frame indexes when `metaBase` (the metadata region's address) is
   * given; `verdicts` the address of `count` bytes this writes: 0 pass, 1 drop (any plugin's drop
   * wins). Returns the number of packets dropped.
   */
  processBurst(metaList: number, count: number, verdicts: number, metaBase = 0): number {
    this.metaBase = metaBase;
    // No memory.buffer check here (23 ns a burst on shared memory): the engine never grows its
    // memory and every address used here is in its layout; only a trusted plugin may grow it, and
    // span()/str() refresh the views for the pointers it hands over.
    this.clear(verdicts, count);
    const f = this.f64;
    // The heartbeat: a sequence number and a busy flag, no clock read (the watchdog times them).
    f[this.hb + 2] = ++this.seq;
    f[this.hb + 3] = metaList;
    f[this.hb + 4] = count;
    f[this.hb] = 1;
    let drops = 0;
    for (let off = 0; off < count; off += this.maxBurst) {
      const n = Math.min(this.maxBurst, count - off);
      this.chunk = off;
      for (const s of this.slots) drops += this.run(s, metaList + 4 * off, n, verdicts + off);
    }
    this.leave();
    this.throwRecordError();
    if (drops === 0 || this.slots.length === 1) return drops;
    // Several plugins may drop the same packet: count packets, not verdicts.
    let dropped = 0;
    for (let i = 0; i < count; i++) dropped += this.u8[verdicts + i];
    return dropped;
  }

  /** Calls wirewasm_on_tick of every running plugin that exports it. */
  tick(nowNs: bigint = BigInt(Math.round(now() * 1e6))): void {
    for (const s of this.slots) {
      if (!s.inst?.wirewasm_on_tick || this.st.quarantined(s.p)) continue;
      this.enter(s);
      try {
        s.inst.wirewasm_on_tick(nowNs);
      } catch (e) {
        this.fail(s, e);
      }
      this.userCounters(s);
      this.leave();
    }
    this.throwRecordError();
  }

  /** Throws the first error onRecord raised during the call in progress (processBurst or tick), once. */
  private throwRecordError(): void {
    if (this.recordError === null) return;
    const e = this.recordError;
    this.recordError = null;
    throw e;
  }

  /** The records emitted since the last call (kept in order). */
  takeRecords(): PluginRecord[] {
    const r = this.records;
    this.records = [];
    return r;
  }

  /** Per-plugin wirewasm.counter_add totals in this worker. */
  readonly counters = new Map<string, CounterTotals>();

  /** Why each plugin last failed in this worker (for logs). */
  lastErrors(): Record<string, string> {
    return Object.fromEntries(this.slots.filter((s) => s.lastError).map((s) => [s.spec.name, s.lastError]));
  }

  /** Zeroes count bytes at at: u32 stores when aligned (9 ns for 64 bytes; fill() on shared memory: 23). */
  private clear(at: number, count: number): void {
    if (((at | count) & 3) !== 0) {
      this.u8.fill(0, at, at + count);
      return;
    }
    const u32 = this.u32;
    for (let i = at >> 2, end = (at + count) >> 2; i < end; i++) u32[i] = 0;
  }

  private views(): void {
    const b = this.opts.memory.buffer;
    this.u8 = new Uint8Array(b);
    this.u32 = new Uint32Array(b);
    this.i32 = new Int32Array(b);
  }

  /** Idle: the watchdog has nothing to time. */
  private leave(): void {
    this.f64[this.hb] = 0;
    this.f64[this.hb + 1] = 0;
  }

  private enter(s: Slot): void {
    this.f64[this.hb + 1] = s.p + 1;
    if (this.f64[this.hb] === 0) {
      this.f64[this.hb + 2] = ++this.seq;
      this.f64[this.hb] = 1;
    }
  }

  /** A fresh instance: new memory, the input region asked for, wirewasm_init run. */
  private start(s: Slot): boolean {
    s.inst = null;
    this.enter(s);
    try {
      const inst = new WebAssembly.Instance(s.spec.module, this.imports(s)).exports as unknown as PluginExports;
      s.mem = s.spec.trusted ? this.opts.memory : inst.memory!;
      s.bytes = new Uint8Array(s.mem.buffer);
      s.i32 = new Int32Array(s.mem.buffer);
      if (inst.wirewasm_init) {
        const r = inst.wirewasm_init();
        if (r !== 0) throw new Error(`wirewasm_init returned ${r}`);
      }
      if (!s.spec.trusted) {
        const cap = Math.min(s.spec.inputBytes, this.areaBytes);
        const at = inst.wirewasm_input(cap) >>> 0;
        if (at === 0 || at % 8 !== 0 || at + cap > s.mem.buffer.byteLength)
          throw new Error(`wirewasm_input(${cap}) returned ${at}: not an 8-byte aligned region of ${cap} bytes inside its ${s.mem.buffer.byteLength}-byte memory`);
        s.input = at;
      }
      s.inst = inst;
      this.f64[s.counters + COUNTER.state] = 0;
      return true;
    } catch (e) {
      this.fail(s, e);
      return false;
    }
  }

  /** Counts a failure; backs off, or quarantines after maxFailures within the window. */
  private fail(s: Slot, e: unknown): void {
    const f = this.f64;
    const kind = trapKind(e);
    s.lastError = `${kind}: ${e instanceof Error ? e.message : String(e)}`;
    this.st.writeError(s.p, this.opts.worker, { kind, message: e instanceof Error ? e.message : String(e) });
    f[s.counters + COUNTER.traps]++;
    f[s.counters + TRAP_SLOT[kind]]++;
    s.inst = null;
    s.mem = null;
    const t = now();
    s.failures = s.failures.filter((x) => t - x < s.spec.failureWindowMs);
    s.failures.push(t);
    if (s.failures.length >= s.spec.maxFailures) {
      this.st.quarantine(s.p);
      f[s.counters + COUNTER.state] = 2;
      return;
    }
    s.consecutive++;
    s.restartAt = t + Math.min(s.spec.backoffMaxMs, s.spec.backoffMs * 2 ** (s.consecutive - 1));
    f[s.counters + COUNTER.state] = 1;
  }

  /** Applies the plugin's policy to packets it could not parse (restarting, quarantined, trapped). */
  private bypass(s: Slot, metaList: number, count: number, verdicts: number, from: number): number {
    // Which packets were routed to it: a gather into the scratch with no copy tells (trusted layout).
    let drops = 0;
    let n = 0;
    let start = from;
    const mode = COPY_MODES[s.spec.copy];
    while (start < count) {
      const k = this.gather(metaList, count, start, mode, 1, s.spec.route.port, s.spec.route.mark, this.area, this.areaBytes, this.area, this.sel, this.pos, this.out, this.metaBase);
      start = this.u32[this.out >> 2];
      n += k;
      if (s.spec.policy === 'closed') {
        for (let j = 0; j < k; j++) this.u8[verdicts + this.u32[(this.sel >> 2) + j]] = VERDICT_DROP;
        drops += k;
      }
    }
    this.f64[s.counters + COUNTER.bypassed] += n;
    this.f64[s.counters + COUNTER.drops] += drops;
    return drops;
  }

  private run(s: Slot, metaList: number, count: number, verdicts: number): number {
    if (this.st.quarantined(s.p)) {
      this.f64[s.counters + COUNTER.state] = 2;
      return this.bypass(s, metaList, count, verdicts, 0);
    }
    if (!s.inst) {
      if (now() < s.restartAt || !this.start(s)) return this.bypass(s, metaList, count, verdicts, 0);
      this.f64[s.counters + COUNTER.restarts]++;
    }
    const spec = s.spec;
    const trusted = spec.trusted ? 1 : 0;
    const mode = COPY_MODES[spec.copy];
    const f = this.f64;
    const c = s.counters;
    const u32 = this.u32;
    const selAt = this.sel >> 2;
    const posAt = this.pos >> 2;
    let drops = 0;
    let start = 0;
    this.enter(s);
    while (start < count) {
      const base = trusted ? this.area : s.input;
      const cap = trusted ? this.areaBytes : Math.min(spec.inputBytes, this.areaBytes);
      const k = this.gather(metaList, count, start, mode, trusted, spec.route.port, spec.route.mark, this.area, cap, base, this.sel, this.pos, this.out, this.metaBase);
      const next = u32[this.out >> 2];
      if (k === 0) {
        start = next;
        continue;
      }
      const inst = s.inst!;
      if (!trusted) {
        if (s.bytes!.buffer !== s.mem!.buffer) {
          s.bytes = new Uint8Array(s.mem!.buffer);
          s.i32 = new Int32Array(s.mem!.buffer);
        }
        s.inputCopy.copyExact(this.u8, this.area, u32[(this.out >> 2) + 2], s.bytes!, base);
      }
      this.cur = s;
      this.curMetaList = metaList;
      this.curCount = k;
      let j = 0;
      try {
        if (inst.wirewasm_on_burst) {
          this.curPacket = -1;
          const r = inst.wirewasm_on_burst(k, base);
          if (r < 0) f[c + COUNTER.errors]++;
          if (!trusted && s.i32!.buffer !== s.mem!.buffer) s.i32 = new Int32Array(s.mem!.buffer); // it grew its memory
          const vi = trusted ? this.i32 : s.i32!;
          // It returns how many verdicts it set to non-zero: with none, there is nothing to read.
          if (r === 0) j = k;
          for (; j < k; j++) {
            const v = vi[(base + u32[posAt + j] + ABI.VERDICT) >> 2];
            if (v === VERDICT_DROP) {
              this.u8[verdicts + u32[selAt + j]] = VERDICT_DROP;
              drops++;
            } else if (v !== VERDICT_PASS) f[c + COUNTER.errors]++;
          }
        } else {
          for (; j < k; j++) {
            const b = this.area + u32[posAt + j];
            this.curPacket = j;
            const v = inst.wirewasm_on_packet(u32[(b + ABI.PTR) >> 2], u32[(b + ABI.LEN) >> 2], base + u32[posAt + j]);
            if (v === VERDICT_DROP) {
              this.u8[verdicts + u32[selAt + j]] = VERDICT_DROP;
              drops++;
            } else if (v !== VERDICT_PASS) f[c + COUNTER.errors]++;
          }
        }
      } catch (e) {
        this.cur = null;
        this.userCounters(s);
        f[c + COUNTER.packets] += j;
        f[c + COUNTER.drops] += drops;
        this.fail(s, e);
        // The packets it did not decide, from the one it trapped on, get its policy.
        const rest = this.bypassSelected(s, j, k, verdicts);
        return drops + rest + this.bypass(s, metaList, count, verdicts, next);
      }
      this.cur = null;
      f[c + COUNTER.packets] += k;
      start = next;
    }
    this.userCounters(s);
    f[c + COUNTER.drops] += drops;
    if (s.consecutive > 0) s.consecutive = 0;
    return drops;
  }

  /** What counter ids 0..USER_COUNTERS-1 counted since the last call, added to the shared stats (PluginState COUNTER.user). */
  private userCounters(s: Slot): void {
    const t = s.totals;
    if (!t) return;
    const at = s.counters + COUNTER.user;
    const last = s.published;
    for (let id = 0; id < USER_COUNTERS; id++) {
      const v = t.number(id);
      if (v !== last[id]) {
        this.f64[at + id] += v - last[id];
        last[id] = v;
      }
    }
  }

  /** Policy for blocks j..k of the round in progress (their sel entries are still in scratch). */
  private bypassSelected(s: Slot, j: number, k: number, verdicts: number): number {
    this.f64[s.counters + COUNTER.bypassed] += k - j;
    if (s.spec.policy !== 'closed') return 0;
    for (let i = j; i < k; i++) this.u8[verdicts + this.u32[(this.sel >> 2) + i]] = VERDICT_DROP;
    this.f64[s.counters + COUNTER.drops] += k - j;
    return k - j;
  }

  /** The whole memory of the plugin, once [ptr, ptr+len) is known to lie inside it; else a fault naming the bad range. */
  private memoryHolding(s: Slot, ptr: number, len: number, what: string): Uint8Array {
    if (!s.spec.trusted && s.bytes!.buffer !== s.mem!.buffer) s.bytes = new Uint8Array(s.mem!.buffer);
    if (s.spec.trusted && ptr + len > this.u8.byteLength) this.views(); // it grew the engine memory
    const mem = s.spec.trusted ? this.u8 : s.bytes!;
    if (ptr + len > mem.byteLength) throw new PluginFault(`${what}(${ptr}, ${len}) reaches past its ${mem.byteLength}-byte memory`);
    return mem;
  }

  /** The bytes [ptr, ptr+len) of the plugin's memory, or a fault naming the bad range. */
  private span(s: Slot, ptr: number, len: number, what: string): Uint8Array {
    ptr >>>= 0;
    len >>>= 0;
    return this.memoryHolding(s, ptr, len, what).subarray(ptr, ptr + len);
  }

  private recordMeta(s: Slot, ptr: number): PluginRecord['metadata'] {
    let j = this.curPacket;
    if (j < 0) {
      // Burst mode: the packet whose bytes hold ptr (blocks are in address order).
      const posAt = this.pos >> 2;
      for (let lo = 0, hi = this.curCount - 1; lo <= hi; ) {
        const mid = (lo + hi) >> 1;
        const b = this.area + this.u32[posAt + mid];
        const p0 = this.u32[(b + ABI.PTR) >> 2];
        if (ptr < p0 - ABI_META_BYTES) hi = mid - 1;
        else if (ptr >= p0 + this.u32[(b + ABI.LEN) >> 2]) lo = mid + 1;
        else {
          j = mid;
          break;
        }
      }
      if (s.spec.trusted) {
        // Trusted: ptr points into the frames, which are in no particular order.
        j = -1;
        for (let i = 0; i < this.curCount && j < 0; i++) {
          const b = this.area + this.u32[posAt + i];
          const p0 = this.u32[(b + ABI.PTR) >> 2];
          if (ptr >= p0 && ptr < p0 + this.u32[(b + ABI.LEN) >> 2]) j = i;
        }
      }
      if (j < 0) return null;
    }
    const inChunk = this.u32[(this.sel >> 2) + j];
    const packet = this.chunk + inChunk;
    const entry = this.u32[(this.curMetaList >> 2) + inChunk];
    const m = this.metaBase ? this.metaBase + entry * 64 : entry;
    const v = new DataView(this.u8.buffer, m, 64);
    return {
      worker: this.opts.worker,
      packet,
      ptype: v.getUint32(12, true),
      flowHash: v.getUint32(40, true),
      timestampNs: v.getBigUint64(16, true),
      queue: v.getUint16(48, true),
      mark: v.getUint32(52, true),
    };
  }

  private imports(s: Slot): WebAssembly.Imports {
    const name = s.spec.name;
    const counters = this.counters.get(name) ?? new CounterTotals();
    this.counters.set(name, counters);
    s.totals = counters;
    const onRecord = this.opts.onRecord;
    const wirewasm = {
      emit: (ptr: number, len: number, kind: number) => {
        if (onRecord) {
          ptr >>>= 0;
          len >>>= 0;
          const mem = this.memoryHolding(s, ptr, len, 'emit');
          this.f64[s.counters + COUNTER.records]++;
          try {
            onRecord(kind >>> 0, mem, ptr, len, s.p);
          } catch (e) {
            this.recordError ??= e;
          }
          return;
        }
        const bytes = this.span(s, ptr, len, 'emit').slice();
        if (this.records.length >= this.maxRecords) {
          this.f64[s.counters + COUNTER.recordsLost]++;
          return;
        }
        this.records.push({ plugin: name, kind: kind >>> 0, bytes, metadata: this.cur === s ? this.recordMeta(s, ptr >>> 0) : null });
        this.f64[s.counters + COUNTER.records]++;
      },
      log: (level: number, ptr: number, len: number) => {
        const msg = utf8.decode(this.span(s, ptr, len, 'log'));
        if (this.opts.onLog) this.opts.onLog(name, level, msg);
        else if (s.logs++ < 100) process.stderr.write(`wirewasm: plugin ${name} [${level}]: ${msg}\n`);
      },
      // Summed in WASM (counters.ts); ids 0..USER_COUNTERS-1 reach the shared stats after each call of the plugin (userCounters).
      counter_add: counters.add,
      now_ns: () => BigInt(Math.round(now() * 1e6)),
    };
    // AssemblyScript's abort(message, fileName, line, column): strings are UTF-16 with their byte
    // length in the u32 before them (as @assemblyscript/loader's __getString reads them).
    const str = (ptr: number) => {
      if (!ptr) return '';
      if (s.spec.trusted && this.u8.byteLength !== this.opts.memory.buffer.byteLength) this.views();
      const mem = s.spec.trusted ? this.u8 : new Uint8Array(s.mem?.buffer ?? new ArrayBuffer(0));
      if (ptr < 4 || ptr > mem.byteLength) return `<bad string at ${ptr}>`;
      const n = new DataView(mem.buffer, mem.byteOffset).getUint32(ptr - 4, true);
      return ptr + n > mem.byteLength ? `<bad string at ${ptr}>` : utf16.decode(mem.slice(ptr, ptr + (n & ~1)));
    };
    const env: Record<string, unknown> = {
      abort: (msg: number, file: number, line: number, col: number) => {
        throw new PluginAbort(`abort: ${str(msg)} at ${str(file)}:${line}:${col}`);
      },
    };
    if (s.spec.trusted) env.memory = this.opts.memory;
    return { wirewasm, env } as WebAssembly.Imports;
  }
}
