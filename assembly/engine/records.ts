// The host's side of the records ring (host/engine/records.ts takeRuns): one call takes a burst
// off the ring and lays the kept frames out in the records framing (host/publish/framing.ts), so
// the host moves whole runs of records with one copy each instead of touching every record.
//
// ```
//  stage (the host's, in scratch: host/engine/setup.ts recordsStageBytes)
//   0  u32  runs R
//   4  u32  records laid out: the first L of the n taken (n is the return value)
//   8  u32  frames among them (released before the call returns)
//  12  u32  scratch (touchFrames)
//  16  R runs of 16 bytes, in ring order:
//       frames run:  u32 queue | u32 count | u32 at: address of its first record | u32 bytes
//       value:       u32 RUN_VALUE | u32 1 | u32 low word | u32 high word
//  16 + 16 × max: the frames' records back to back, each u32 length | u16 link type | u16 0 |
//     the frame's first segment (its caplen bytes); a run's records are contiguous
// ```
//
// A frames run holds consecutive frame records of one receive queue. The frames laid out are
// released (one reference each) once copied, so the stage is valid until the next call. A frame
// that does not fit in what is left of the stage (frames larger than the stage was sized for) ends
// the layout: records [L, n) stay in `list` as the ring had them, for the host to take one by one.

import { META_CAPLEN, META_DATA, META_LINKTYPE, META_QUEUE } from '../meta';
import { ehAddr, EH_META, EH_RECORDS_RING } from '../engine-map';
import { frameRelease } from '../pool';
import { ringDequeueBurst64 } from '../ring';
import { copyBytes } from '../copy';
import { REC_TAG_FRAME } from './journal';

const STAGE_HEADER: usize = 16;
const RUN_BYTES: usize = 16;
const RECORD_HEADER: u32 = 8;
/** Run kind of an emitted value (a queue is at most 0xffff). */
const RUN_VALUE: u32 = 0xffffffff;

/**
 * Takes up to `max` records off the records ring into `list` (8 B each) and lays them out in
 * `stage` (see above); the frames among them go back to `cache`. Returns the records taken.
 */
export function recordsTake(ctx: usize, cache: usize, list: usize, max: u32, stage: usize, stageBytes: u32): u32 {
  const n = ringDequeueBurst64(ehAddr(ctx, EH_RECORDS_RING), list, max);
  const metaBase = ehAddr(ctx, EH_META);
  touchFrames(list, n, metaBase, stage);
  let runs: u32 = 0;
  let run: usize = 0;
  let queue: u32 = RUN_VALUE;
  let at = stage + STAGE_HEADER + <usize>max * RUN_BYTES;
  const end = stage + <usize>stageBytes;
  let frames: u32 = 0;
  let i: u32 = 0;
  for (; i < n; i++) {
    const lo = load<u32>(list + (<usize>i << 3));
    const hi = load<u32>(list + (<usize>i << 3), 4);
    if (hi != REC_TAG_FRAME) {
      run = stage + STAGE_HEADER + <usize>(runs++) * RUN_BYTES;
      store<u32>(run, RUN_VALUE);
      store<u32>(run, 1, 4);
      store<u32>(run, lo, 8);
      store<u32>(run, hi, 12);
      queue = RUN_VALUE;
      continue;
    }
    const m = metaBase + (<usize>lo << 6);
    const len = load<u32>(m + META_CAPLEN);
    if (at + RECORD_HEADER + len > end) break;
    const q = <u32>load<u16>(m + META_QUEUE);
    if (q != queue) {
      run = stage + STAGE_HEADER + <usize>(runs++) * RUN_BYTES;
      store<u32>(run, q);
      store<u32>(run, 0, 4);
      store<u32>(run, <u32>at, 8);
      store<u32>(run, 0, 12);
      queue = q;
    }
    store<u32>(at, len);
    store<u32>(at, <u32>load<u16>(m + META_LINKTYPE), 4);
    copyBytes(at + RECORD_HEADER, <usize>load<u32>(m + META_DATA), len);
    at += RECORD_HEADER + len;
    store<u32>(run, load<u32>(run, 4) + 1, 4);
    store<u32>(run, load<u32>(run, 12) + RECORD_HEADER + len, 12);
    // The release list is built in place over the records already read (slot i is 8 bytes, entry
    // `frames` <= i is 4).
    store<u32>(list + (<usize>(frames++) << 2), lo);
  }
  for (let k: u32 = 0; k < frames; k++) frameRelease(ctx, cache, load<u32>(list + (<usize>k << 2)));
  store<u32>(stage, runs);
  store<u32>(stage, i, 4);
  store<u32>(stage, frames, 8);
  return n;
}

/**
 * Loads each kept frame's meta line, then the lines of its bytes, before the layout copies them.
 * The worker wrote those lines on its core: each is a miss here. The layout waits for each record's
 * meta before it can ask for the bytes, then for the bytes before storing them; loads that depend on
 * nothing but the list overlap their misses instead. The sum of what was read goes to the stage's
 * scratch word, so no load is dead code.
 */
function touchFrames(list: usize, n: u32, metaBase: usize, stage: usize): void {
  let sum: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    if (load<u32>(list + (<usize>i << 3), 4) != REC_TAG_FRAME) continue;
    sum += load<u32>(metaBase + (<usize>load<u32>(list + (<usize>i << 3)) << 6) + META_DATA);
  }
  for (let i: u32 = 0; i < n; i++) {
    if (load<u32>(list + (<usize>i << 3), 4) != REC_TAG_FRAME) continue;
    const m = metaBase + (<usize>load<u32>(list + (<usize>i << 3)) << 6);
    const data = <usize>load<u32>(m + META_DATA);
    const len = load<u32>(m + META_CAPLEN);
    // The first and the last byte: a small frame's one or two lines (the hardware prefetcher follows a long one).
    if (len != 0) sum += load<u8>(data) + load<u8>(data + <usize>len - 1);
  }
  store<u32>(stage, sum, 12);
}
