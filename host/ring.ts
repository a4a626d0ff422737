// Rings from JavaScript: the TypeScript face of assembly/ring.ts. A ring lives in the memory map
// (layout.ring(name)); any worker that has the memory and an engine instance opens it by address.
// Items cross JS<->WASM a burst at a time through a staging area in the shared memory: the caller
// writes items into `port.items` (a view of its staging area) and calls enqueue(n), or calls
// dequeue() and reads `port.items`. One call into WASM per burst, never one per item.
import type { RingPlacement } from './layout.js';

export { RING_F_MP, RING_F_MC, RING_F_ADAPTIVE, RING_F_MPMC, RING_MAGIC, RingHeader } from './abi.js';
import { RING_MAGIC, RingHeader, type EngineExports } from './abi.js';


const INIT_ERRORS: Record<number, string> = {
  [-1]: 'the ring address is 0 or not 64-byte aligned; place rings with host/layout.ts',
  [-2]: 'slots must be a power of two from 2 to 2^24',
  [-3]: 'slotBytes must be 4 or 8',
  [-4]: 'unknown flag bits; use RING_F_MP | RING_F_MC | RING_F_ADAPTIVE',
};

export interface RingStats {
  enqueued: bigint;
  dequeued: bigint;
  /** Enqueue calls that found no room (bulk: not room for all). */
  full: bigint;
  /** Dequeue calls that found nothing (bulk: not enough). */
  empty: bigint;
  /** Notifications sent to sleeping waiters. */
  wakeups: bigint;
  consumersWaiting: number;
  producersWaiting: number;
}

/** A timeout for the i32 microsecond argument: negative, infinite or over 35 minutes means no limit. */
const micros = (us: number) => (us < 0 || !(us <= 0x7fffffff) ? -1 : Math.floor(us));

type Where = RingPlacement | { offset: number } | number;
const addressOf = (w: Where) => (typeof w === 'number' ? w : w.offset);

/**
 * Formats the ring at `where` (a placement from layout.ring(name)). Call once, before any worker
 * opens it; flags default to the placement's flags.
 */
export function createRing(memory: WebAssembly.Memory, exports: EngineExports, where: RingPlacement, flags = where.flags): Ring {
  const ex = exports;
  const rc = ex.ringInit(where.offset, where.slots, where.slotBytes, flags);
  if (rc !== 0) throw new RangeError(`ring "${where.name}" at ${where.offset}: ${INIT_ERRORS[rc] ?? `ringInit failed (${rc})`}`);
  return new Ring(memory, ex, where.offset);
}

/** Opens a ring another thread created, by placement or address. */
export function openRing(memory: WebAssembly.Memory, exports: EngineExports, where: Where): Ring {
  return new Ring(memory, exports, addressOf(where));
}

export class Ring {
  readonly slots: number;
  readonly slotBytes: 4 | 8;
  readonly flags: number;
  private readonly u32: Uint32Array;
  private readonly u64: BigUint64Array;

  constructor(
    readonly memory: WebAssembly.Memory,
    readonly exports: EngineExports,
    readonly address: number,
  ) {
    const buf = memory.buffer;
    if (!Number.isInteger(address) || address <= 0 || address % 64 !== 0 || address + RingHeader.bytes > buf.byteLength)
      throw new RangeError(`no ring can be at ${address}: use the offset of a ring from the layout (layout.ring(name).offset)`);
    this.u32 = new Uint32Array(buf, address, RingHeader.bytes / 4);
    this.u64 = new BigUint64Array(buf, address, RingHeader.bytes / 8);
    const magic = Atomics.load(this.u32, RingHeader.magic / 4);
    if (magic !== RING_MAGIC) throw new Error(`no ring at ${address} (magic 0x${magic.toString(16)}): create it first with createRing(memory, exports, layout.ring(name))`);
    this.slots = this.u32[RingHeader.slots / 4];
    this.slotBytes = this.u32[RingHeader.slotBytes / 4] as 4 | 8;
    this.flags = this.u32[RingHeader.flags / 4];
    if (address + RingHeader.bytes + this.slots * this.slotBytes > buf.byteLength)
      throw new RangeError(`ring at ${address} claims ${this.slots} slots, past the end of the memory: the header is corrupt`);
  }

  /** Items in the ring now. */
  count(): number {
    return this.exports.ringCount(this.address);
  }

  /** Free slots now. */
  free(): number {
    return this.exports.ringFree(this.address);
  }

  stats(): RingStats {
    const w = (off: number) => Atomics.load(this.u64, off / 8);
    return {
      enqueued: w(RingHeader.enqueued),
      dequeued: w(RingHeader.dequeued),
      full: w(RingHeader.full),
      empty: w(RingHeader.empty),
      wakeups: w(RingHeader.wakeups),
      consumersWaiting: Atomics.load(this.u32, RingHeader.consumersWaiting / 4),
      producersWaiting: Atomics.load(this.u32, RingHeader.producersWaiting / 4),
    };
  }

  /**
   * A port: this thread's way in and out of the ring, through `burst` items of staging at `staging`
   * (an address in the memory this thread alone uses, e.g. a slice of layout.scratch).
   */
  port(staging: number, burst: number): RingPort {
    return new RingPort(this, staging, burst);
  }
}

export class RingPort {
  /** The staging area: fill it before enqueue, read it after dequeue. */
  readonly items: Uint32Array | BigUint64Array;
  private readonly ring: number;
  private readonly enqBurst: (r: number, a: number, n: number) => number;
  private readonly enqBulk: (r: number, a: number, n: number) => number;
  private readonly deqBurst: (r: number, a: number, n: number) => number;
  private readonly deqBulk: (r: number, a: number, n: number) => number;
  private readonly enqWait: (r: number, a: number, n: number, t: number) => number;
  private readonly deqWait: (r: number, a: number, n: number, t: number) => number;

  constructor(
    ringObj: Ring,
    readonly staging: number,
    readonly burst: number,
  ) {
    const { memory, exports: ex, slotBytes, address } = ringObj;
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`burst: got ${burst}; use a whole number >= 1`);
    const bytes = burst * slotBytes;
    if (!Number.isInteger(staging) || staging <= 0 || staging % 8 !== 0 || staging + bytes > memory.buffer.byteLength)
      throw new RangeError(`staging: ${staging} is not an 8-byte aligned address with ${bytes} bytes of room in the memory; use a slice of layout.scratch`);
    const ringEnd = address + RingHeader.bytes + ringObj.slots * slotBytes;
    if (staging < ringEnd && staging + bytes > address)
      throw new RangeError(`staging [${staging}, ${staging + bytes}) overlaps the ring at [${address}, ${ringEnd}); use a slice of layout.scratch`);
    this.ring = address;
    if (slotBytes === 4) {
      this.items = new Uint32Array(memory.buffer, staging, burst);
      [this.enqBurst, this.enqBulk, this.deqBurst, this.deqBulk, this.enqWait, this.deqWait] = [ex.ringEnqueueBurst32, ex.ringEnqueueBulk32, ex.ringDequeueBurst32, ex.ringDequeueBulk32, ex.ringEnqueueWait32, ex.ringDequeueWait32];
    } else {
      this.items = new BigUint64Array(memory.buffer, staging, burst);
      [this.enqBurst, this.enqBulk, this.deqBurst, this.deqBulk, this.enqWait, this.deqWait] = [ex.ringEnqueueBurst64, ex.ringEnqueueBulk64, ex.ringDequeueBurst64, ex.ringDequeueBulk64, ex.ringEnqueueWait64, ex.ringDequeueWait64];
    }
  }

  private check(n: number): number {
    if (!(n >= 0 && n <= this.burst)) throw new RangeError(`n: got ${n}; a port of burst ${this.burst} moves 0..${this.burst} items per call`);
    return n;
  }

  /** Enqueues as many of items[0..n) as fit; returns how many (the first ones). */
  enqueue(n: number): number {
    return this.enqBurst(this.ring, this.staging, this.check(n));
  }

  /** Enqueues all of items[0..n), or none. */
  enqueueBulk(n: number): boolean {
    return this.enqBulk(this.ring, this.staging, this.check(n)) !== 0;
  }

  /** Dequeues up to `max` items into items[0..); returns how many. */
  dequeue(max = this.burst): number {
    return this.deqBurst(this.ring, this.staging, this.check(max));
  }

  /** Dequeues exactly `n` items into items[0..n), or none. */
  dequeueBulk(n: number): boolean {
    return this.deqBulk(this.ring, this.staging, this.check(n)) !== 0;
  }

  /**
   * enqueue() that, when the ring is full, polls for room and on an adaptive ring then sleeps up to
   * `timeoutUs` microseconds (negative: no limit) until a consumer frees slots. 0 means still full.
   */
  enqueueWait(n: number, timeoutUs = -1): number {
    return this.enqWait(this.ring, this.staging, this.check(n), micros(timeoutUs));
  }

  /** dequeue() that waits for items the same way; 0 means still empty. */
  dequeueWait(max = this.burst, timeoutUs = -1): number {
    return this.deqWait(this.ring, this.staging, this.check(max), micros(timeoutUs));
  }
}
