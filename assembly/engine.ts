// The engine module: every export that host/ calls. One compiled module is instantiated by each
// worker over the same shared memory, so nothing here may allocate, keep module-level mutable
// state or run top-level code (DESIGN.md, "Rules that make several WASM instances share one
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
export { parseFrame, parseBurst, parseList, ipv6UpperProtocol } from './parse';
export { parseFrame, parseBurst, parseList, ipv6UpperProtocol, tcpOption } from './parse';
export { rssPrepare, rssHashMeta, toeplitz, toeplitzBitwise, flowKey } from './rss';
export { internetChecksum } from './checksum';
export { rssPrepare, rssHashMeta, toeplitz, flowKey } from './rss';
export { parseFrame, parseBurst, parseList, ipv6UpperProtocol, tcpOption } from './parse';
export { rssPrepare, rssHashMeta, toeplitz, toeplitzBitwise, flowKey } from './rss';
export { internetChecksum } from './checksum';
export { engineCheck, enginePoll, engineWorkerStart, engineWorkerStop, sourcePoll, backendIngest, kernelDrops } from './dispatch';
export { poolInit, poolAlloc, poolFlush, poolAvailable, poolCopyIn, frameRetain, frameRelease, frameRecover, frameReleaseList } from './pool';
export { flowMatch } from './flow';
export { shaperInit, shaperBudget, shaperWaitNs } from './shaper';
export { statsHistRecord, statsHistBucket, histBucketLow } from './stats';
export { tpacketInit, tpacketRx, tpacketRelease, tpacketTxReserve, tpacketTxSubmit, tpacketTxPending, tpacketRxReady, tpacketEngineInit, tpacketEngineRx, tpacketEngineStop, tpacketEngineHeld, tpacketEnginePollable, tpacketEngineTx, tpacketEngineTxInflight } from './tpacket';
export { xskRing, xskInit, xskRx, xskRelease, xskReap, xskTxReserve, xskTxSubmit, xskTxPending, xskRxReady, xskEngineFill, xskEngineRx, xskEngineReclaim, xskEngineKernelFrames, xskEngineTx, xskEngineTxInflight } from './xsk';
export { pluginGather } from './plugins';
