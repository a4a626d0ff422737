// Waking the records ring's reader (host/engine/records.ts). The ring is not adaptive on the
// producer side, so publishing never wakes the reader by itself: each worker does, after its polls,
// so that a steady stream wakes the reader about once per `afterNs` (the engine's recordsWakeUs,
// default 500 µs) rather than once per burst. A reader woken per burst (every ~60 µs at 100 k records/s from a paced source) spends an
// event-loop turn, and the publish sink a message, per handful of records; on two cores those
// wake-ups are most of the reader thread's time, and make every thread wait for a core more often.
// A worker about to sleep past the deadline wakes the reader before it sleeps, and
// WAKE_AFTER_RECORDS records wake it at once: the last records of a stream, and a fast stream, wait
// no longer than they would for a wake-up per burst. A handler that runs longer than `afterNs`
// holds the wake-up for the records of the burst before it until its poll returns.
//
// No wake-up is lost. The reader flags itself in the ring's waiters word, then reads the tail, then
// sleeps only while the tail is still what it read (records.ts sleep()); a worker reads the flag
// after its poll published the tail, both sequentially consistent. So either the reader saw the
// records, or the worker sees the flag, and then owes the reader a notify until it sends one.
import { RingHeader } from '../abi.js';

/** Records on the ring since the last wake-up that wake the reader at once: one reader burst. */
export const WAKE_AFTER_RECORDS = 256;

export class ReaderWake {
  private readonly tail: number;
  private readonly waiting: number;
  /** The ring's wake-up counter (RingHeader.wakeups), as a u64. */
  private readonly wakeups: number;
  private readonly u64: BigUint64Array;
  /** The tail the reader was last woken for or seen awake at; since when newer records wait (-1: none). */
  private woken: number;
  private owedSince = -1;

  constructor(
    private readonly i32: Int32Array,
    ring: number,
    /** The longest a record waits on the ring for the reader to be woken (ns). */
    private readonly afterNs: number,
  ) {
    this.tail = (ring + RingHeader.prodTail) >> 2;
    this.waiting = (ring + RingHeader.consumersWaiting) >> 2;
    this.u64 = new BigUint64Array(i32.buffer);
    this.wakeups = (ring + RingHeader.wakeups) >> 3;
    this.woken = Atomics.load(i32, this.tail);
  }

  /**
   * Called after each poll at `now` (ns), and with `sleepUntil` before the worker sleeps until then:
   * the deadline is judged at the end of the sleep. Returns whether it woke the reader.
   */
  check(now: number, sleepUntil = now): boolean {
    const tail = Atomics.load(this.i32, this.tail);
    if (tail === this.woken) return false;
    if (Atomics.load(this.i32, this.waiting) === 0) {
      // Awake: it takes these records in the turn it is in, or sees them before it sleeps.
      this.woken = tail;
      this.owedSince = -1;
      return false;
    }
    if (this.owedSince < 0) this.owedSince = now;
    if (sleepUntil - this.owedSince < this.afterNs && ((tail - this.woken) >>> 0) < WAKE_AFTER_RECORDS) return false;
    this.woken = tail;
    this.owedSince = -1;
    Atomics.add(this.u64, this.wakeups, 1n);
    Atomics.notify(this.i32, this.tail);
    return true;
  }
}
