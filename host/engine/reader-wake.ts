// Waking the records ring's reader (host/engine/records.ts). The ring is not adaptive on the
// producer side, so publishing never wakes the reader by itself: each worker does, after its polls,
// each at most once per `wakeNs` (the engine's recordsWakeUs, default 500 µs; with several workers
// the reader may be woken once per worker in that time). A reader woken per
// burst (every ~60 µs at 100 k records/s from a paced source) spends an event-loop turn, and the
// publish sink a message, per handful of records; on two cores those wake-ups are most of the
// reader thread's time, and make every thread wait for a core more often.
//
// When records find the reader asleep: if the worker's last wake-up is `wakeNs` old, it wakes the
// reader at once (the first records after a quiet spell wait for nothing); else the wake-up is owed
// until `wakeNs` after the last one, and sent by the first poll past that time, or before the
// worker sleeps past it. WAKE_AFTER_RECORDS records wake the reader at once whatever the time. So
// a record waits on the ring at most `wakeNs` (plus a poll) for its reader to be woken; a handler
// that runs longer than that holds the wake-up for the burst before it until its poll returns.
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
  private readonly head: number;
  private readonly waiting: number;
  /** The ring's wake-up counter (RingHeader.wakeups), as a u64. */
  private readonly wakeups: number;
  private readonly u64: BigUint64Array;
  /** The tail the reader was last woken for or seen awake at. */
  private woken: number;
  /** When this worker last woke the reader (ns). */
  private lastWake = -Infinity;

  constructor(
    private readonly i32: Int32Array,
    ring: number,
    /** The least time between two wake-ups from this worker, and so the longest a record waits for one (ns). */
    private readonly wakeNs: number,
  ) {
    this.tail = (ring + RingHeader.prodTail) >> 2;
    this.head = (ring + RingHeader.consHead) >> 2;
    this.waiting = (ring + RingHeader.consumersWaiting) >> 2;
    this.u64 = new BigUint64Array(i32.buffer);
    this.wakeups = (ring + RingHeader.wakeups) >> 3;
    this.woken = Atomics.load(i32, this.tail);
  }

  /**
   * Called after each poll at `now` (ns), and with `sleepUntil` before the worker sleeps until then:
   * a wake-up due before the sleep ends is sent now. Returns whether it woke the reader.
   */
  check(now: number, sleepUntil = now): boolean {
    const tail = Atomics.load(this.i32, this.tail);
    if (tail === this.woken) return false;
    // Awake, it takes these records in the turn it is in or sees them before it sleeps; asleep with
    // the ring empty, it took them already (woken by another worker, or its own timeout).
    if (Atomics.load(this.i32, this.waiting) === 0 || Atomics.load(this.i32, this.head) === tail) {
      this.woken = tail;
      return false;
    }
    if (sleepUntil - this.lastWake < this.wakeNs && ((tail - this.woken) >>> 0) < WAKE_AFTER_RECORDS) return false;
    this.woken = tail;
    this.lastWake = now;
    Atomics.add(this.u64, this.wakeups, 1n);
    Atomics.notify(this.i32, this.tail);
    return true;
  }
}
