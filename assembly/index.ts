// The engine module: every export that host/ calls. One compiled module is instantiated by each
// worker over the same shared memory, so nothing here may allocate, keep module-level mutable
// state or run top-level code (docs/architecture.md, "Rules that make several WASM instances share one
// memory"); tests/module-shape.test.ts checks the built module for it.

import { checkControlBlock, regionOffset } from './control';

export { regionOffset, ringOffset } from './control';

/** Checks the control block; called once by the host before any worker starts. */
export function init(controlBlock: usize): i32 {
  return checkControlBlock(controlBlock);
}

/** Adds `delta` to the u32 at `addr`, `times` times, atomically: the multi-worker smoke test. */
export function counterAddLoop(addr: usize, delta: u32, times: u32): u32 {
  let last: u32 = 0;
  for (let i: u32 = 0; i < times; i++) last = atomic.add<u32>(addr, delta);
  return last;
}

export { ringInit, ringCount, ringFree, ringEnqueue32, ringDequeue32, ringEnqueueBurst32, ringEnqueueBulk32, ringDequeueBurst32, ringDequeueBulk32, ringEnqueueWait32, ringDequeueWait32, ringEnqueueBurst64, ringEnqueueBulk64, ringDequeueBurst64, ringDequeueBulk64, ringEnqueueWait64, ringDequeueWait64 } from './ring';
export { parseFrame, parseBurst, parseList, tcpOption } from './parse/parse';
export { ipv6UpperProtocol } from './parse/proto/ipv6';
export { rssPrepare, rssHashMeta, toeplitz, toeplitzBitwise, flowKey } from './parse/rss';
export { internetChecksum } from './parse/checksum';
export { engineCheck, enginePoll, engineWorkerStart, engineWorkerStop } from './engine/worker';
export { sourcePoll } from './engine/replay';
export { backendIngest, kernelDrops } from './engine/rx';
export { poolInit, poolAlloc, poolFlush, poolAvailable, poolCopyIn, frameRetain, frameRelease, frameRecover, frameReleaseList } from './pool';
export { flowMatch } from './engine/flow';
export { shaperInit, shaperBudget, shaperWaitNs } from './shaper';
export { statsHistRecord, statsHistBucket, histBucketLow } from './stats';
export { tpacketInit, tpacketRx, tpacketRelease, tpacketTxReserve, tpacketTxSubmit, tpacketTxPending, tpacketRxReady } from './kernel/tpacket';
export { tpacketEngineInit, tpacketEngineRx, tpacketEngineStop, tpacketEngineHeld, tpacketEnginePollable, tpacketEngineTx, tpacketEngineTxInflight } from './engine/tpacket';
export { xskRing, xskInit, xskRx, xskRelease, xskReap, xskTxReserve, xskTxSubmit, xskTxPending, xskRxReady } from './kernel/xsk';
export { xskEngineFill, xskEngineRx, xskEngineReclaim, xskEngineKernelFrames, xskEngineTx, xskEngineTxInflight } from './engine/xsk';
export { pluginGather } from './engine/gather';
export { recoverClaim, claimSettle, recoverWorker } from './engine/recover';
