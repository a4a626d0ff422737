// The worker's tmp journal publish, shared by routing (ingest) and forwarding (flushTx): the
// journal words in the worker control line (assembly/engine-map.ts WC_TMP_*) say at every
// instruction which frames are whose, so recovery (assembly/engine/recover.ts) finishes a worker
// ended anywhere.

import { WC_TMP_FIRST, WC_TMP_N, WC_TMP_RING } from '../engine-map';
import { frameRelease, PC_CLAIM } from '../pool';
import { ringEnqueueBurstJ32 } from '../ring';
import { statAdd } from '../stats';

/**
 * A staged record (u64, the worker's records list): kind in the high word. REC_FRAME: a frame in
 * the low word, holding one reference of it. REC_KEEP: a frame record as keep() stages it, the
 * frame's slot in the burst list in the low word, holding no reference yet (flushRecords gives it one).
 */
export const REC_TAG_FRAME: u32 = 0x80000000;
export const REC_TAG_KEEP: u32 = 0x80000001;
export const REC_FRAME: u64 = <u64>REC_TAG_FRAME << 32;
export const REC_KEEP: u64 = <u64>REC_TAG_KEEP << 32;
export const REC_KIND: u64 = 0xffffffff00000000;
/**
 * Burst list entry flag: the frame (the low 31 bits) was kept and the burst's reference of it went
 * to its record. The entry still names the frame for the burst's figures; releasing it is the record's.
 */
export const BURST_KEPT: u32 = 0x80000000;
/** A staged forward entry already moved to the tmp journal (or never valid). */
export const TX_NONE: u32 = 0xffffffff;

/**
 * Publishes the tmp journal's frames [0, k) on `ring` under the worker's claim record. In the
 * publish stretch [0, put) become the ring's and the rest are counted under the stats field
 * `overflow`; those are then released one by one, the journal's first moving past each in the
 * stretch of its release, so a kill anywhere leaves the journal exact. Inlined: a call would add
 * an interrupt check between the publish and the journal stores.
 */
@inline export function publishTmp(ctx: usize, wb: usize, cache: usize, ring: usize, tmp: usize, k: u32, block: usize, overflow: usize): void {
  const put = ringEnqueueBurstJ32(ring, tmp, k, cache + PC_CLAIM);
  if (k > put) statAdd(block, overflow, <u64>(k - put));
  store<u32>(wb, put, WC_TMP_FIRST);
  store<u32>(wb, 0, WC_TMP_RING);
  for (let j = put; j < k; j++) {
    frameRelease(ctx, cache, load<u32>(tmp + (<usize>j << 2)));
    store<u32>(wb, j + 1, WC_TMP_FIRST);
  }
  store<u32>(wb, 0, WC_TMP_N);
  store<u32>(wb, 0, WC_TMP_FIRST);
}
