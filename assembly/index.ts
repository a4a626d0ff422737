// The engine module: every export that host/ calls. One compiled module is instantiated by each
// worker over the same shared memory, so nothing here may allocate, keep module-level mutable
// state or run top-level code (docs/architecture.md, "Rules that make several WASM instances share one
// memory"); tests/wasm-binary.test.ts checks the built module for it.

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
export { replayWaitNs, sourcePoll } from './engine/replay';
export { backendIngest, kernelDrops, sourceCount } from './engine/rx';
export { poolInit, poolAlloc, poolFlush, poolAvailable, poolCopyIn, frameRetain, frameRelease, frameRecover, frameReleaseList } from './pool';
export { flowMatch } from './engine/flow';
export { recordsTake } from './engine/records';
export { shaperInit, shaperBudget, shaperWaitNs } from './shaper';
export { statsHistRecord, statsHistBucket, histBucketLow } from './stats';
export { tpacketInit, tpacketRx, tpacketRelease, tpacketTxReserve, tpacketTxSubmit, tpacketTxPending, tpacketRxReady } from './kernel/tpacket';
export { tpacketEngineInit, tpacketEngineRx, tpacketEngineStop, tpacketEngineHeld, tpacketEnginePollable, tpacketEngineTx, tpacketEngineTxInflight } from './engine/tpacket';
export { xskRing, xskInit, xskRx, xskRelease, xskReap, xskTxReserve, xskTxSubmit, xskTxPending, xskRxReady } from './kernel/xsk';
export { xskEngineFill, xskEngineRx, xskEngineReclaim, xskEngineKernelFrames, xskEngineTx, xskEngineTxInflight } from './engine/xsk';
export { pluginGather } from './engine/gather';
export { recoverClaim, claimSettle, recoverWorker } from './engine/recover';
export { txHoldRelease } from './engine/txhold';

// Layout constants, exported as immutable globals: the host's views of these layouts (and the
// generated native/generated/meta.h) are checked against, or built from, these values, so every
// offset has one source. tests/wasm-binary.test.ts checks none of them is mutable.
export { META_BYTES, META_DATA, META_CAPLEN, META_WIRELEN, META_PTYPE, META_TIMESTAMP, META_L2, META_L3, META_L4,
  META_PAYLOAD, META_INNER_L3, META_INNER_L4, META_VLAN0, META_VLAN1, META_HASH, META_ERRORS, META_QUEUE,
  META_LINKTYPE, META_MARK, META_REFCNT, META_NEXT, OFFSET_NONE, VLAN_NONE, NEXT_NONE } from './meta';
export { PTYPE_L2_MASK, PTYPE_L2_ETHER, PTYPE_L2_ETHER_ARP, PTYPE_L2_ETHER_LLDP, PTYPE_L2_ETHER_VLAN,
  PTYPE_L2_ETHER_QINQ, PTYPE_L2_ETHER_PPPOE, PTYPE_L2_ETHER_MPLS, PTYPE_L2_ETHER_LLC, PTYPE_L2_SLL, PTYPE_L2_SLL2,
  PTYPE_L2_NULL, PTYPE_L3_MASK, PTYPE_L3_IPV4, PTYPE_L3_IPV4_EXT, PTYPE_L3_IPV6, PTYPE_L3_IPV6_EXT, PTYPE_L4_MASK,
  PTYPE_L4_TCP, PTYPE_L4_UDP, PTYPE_L4_FRAG, PTYPE_L4_SCTP, PTYPE_L4_ICMP, PTYPE_L4_NONFRAG, PTYPE_L4_IGMP,
  PTYPE_TUNNEL_MASK, PTYPE_TUNNEL_IP, PTYPE_TUNNEL_GRE, PTYPE_TUNNEL_VXLAN, PTYPE_TUNNEL_GENEVE, PTYPE_INNER_L2_MASK,
  PTYPE_INNER_L2_ETHER, PTYPE_INNER_L2_ETHER_VLAN, PTYPE_INNER_L2_ETHER_QINQ, PTYPE_INNER_L3_MASK,
  PTYPE_INNER_L3_IPV4, PTYPE_INNER_L3_IPV4_EXT, PTYPE_INNER_L3_IPV6, PTYPE_INNER_L3_IPV6_EXT, PTYPE_INNER_L4_MASK,
  PTYPE_INNER_L4_TCP, PTYPE_INNER_L4_UDP, PTYPE_INNER_L4_FRAG, PTYPE_INNER_L4_SCTP, PTYPE_INNER_L4_ICMP,
  PTYPE_INNER_L4_NONFRAG, PTYPE_INNER_L4_SHIFT, ERR_TRUNC_L2, ERR_TRUNC_L3, ERR_TRUNC_L4, ERR_TRUNC_TUNNEL,
  ERR_TRUNC_INNER, ERR_BAD_IP_CSUM, ERR_BAD_L4_CSUM, ERR_FRAGMENT, ERR_UNKNOWN_L3, ERR_UNKNOWN_L4, ERR_BAD_L3,
  ERR_BAD_L4, ERR_DEPTH, ERR_UNKNOWN_LINK, ERR_CSUM_CHECKED, ERR_L3_LEN_CAPLEN, PARSE_VERIFY_CSUM, PARSE_SIMD,
  PARSE_RSS, PARSE_RSS_SYMMETRIC, PARSE_RSS_L3_ONLY, PARSE_NO_TUNNELS, LINKTYPE_ETHERNET, LINKTYPE_RAW,
  LINKTYPE_DLT_RAW, LINKTYPE_DLT_RAW_OPENBSD, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_IPV4, LINKTYPE_IPV6,
  LINKTYPE_NULL, LINKTYPE_LOOP } from './parse/ptype';
export { ENGINE_MAGIC, EH_MAGIC, EH_WORKERS, EH_QUEUES, EH_CLASSES, EH_BURST, EH_POOL_CACHE, EH_FRAME_SIZE,
  EH_FRAME_COUNT, EH_FRAMES, EH_META, EH_FREE_RING, EH_RECORDS_RING, EH_STATS, EH_RSS_TABLE, EH_RETA, EH_FLOW_CONTROL,
  EH_FLOW_TABLES, EH_FLOW_RULES, EH_RX_TIME, EH_WORKER_BLOCKS, EH_WORKER_BYTES, EH_CACHES, EH_CACHE_BYTES, EH_SHAPERS,
  EH_SOURCES, EH_PARSE_FLAGS, EH_OPTIONS, EH_RING_TABLE, EH_W_BURST, EH_W_FRAMES, EH_W_STAGE, EH_W_RECORDS, EH_W_HIST,
  EH_RECORD_SLOTS, EH_W_TX, EH_TX_QUEUES, EH_TX_HOLD, TX_HOLD_BYTES, TXH_COUNTED, TXH_RELEASED, TXH_LIST, EH_DPDK_BASE,
  EH_DPDK_COUNT, EH_DPDK_RETURN, EH_DPDK_RETURN_STRIDE, EH_EXT_BASE,
  EH_EXT_BYTES, EH_EXT_STRIDE, EH_EXT_SHIFT, EH_EXT_HOLDERS, EH_RUN_STOP, EH_RSS_KEY, RSS_KEY_BYTES,
  OPT_DROP_PARSE_ERRORS, OPT_RSS, OPT_PAIRS, OPT_FILTER, RT_RX, RT_TX, RT_IN, WC_BURST_COUNT, WC_SEEN_GENERATION, WC_STATE,
  WC_POLLS, WC_RECORD_COUNT, WC_STAGE_COUNT, WC_TX_COUNT, WC_RX_PENDING, WC_SOURCE_N, WC_SOURCE_FIRST, WC_SOURCE_PHASE,
  WC_TMP_N, WC_TMP_FIRST, WC_TMP_RING, WC_TMP_LIST, WC_RECORD_FIRST, FC_ACTIVE, FC_GENERATION, FC_COUNT0, FC_COUNT1,
  SHAPER_RX } from './engine-map';
export { STATS_BLOCK_BYTES, STAT_RX_PACKETS, STAT_RX_BYTES, STAT_DELIVERED, STAT_DELIVERED_BYTES, STAT_TX_PACKETS,
  STAT_TX_BYTES, STAT_BURSTS, STAT_RECORDS_DROPPED, STAT_DROPS, STAT_LAT_COUNT, STAT_LAT_SUM, STAT_LAT_MAX,
  STAT_TX_DROPPED, STAT_DROP_RING_FULL, STAT_DROP_POOL_EMPTY, STAT_DROP_RULE_DROP, STAT_DROP_PARSE_ERROR,
  STAT_DROP_HANDLER_ERROR, STAT_DROP_KERNEL, STAT_DROP_FILTERED, STAT_DROP_REASONS, HIST_SUB_BITS, HIST_MAX_EXP, HIST_BUCKETS, HIST_BYTES } from './stats';
export { PC_COUNT, PC_CAPACITY, PC_SIZE, PC_CLAIM, PC_SLOTS } from './pool';
export { RING_HEADER, RING_MAGIC, RING_MAX_SLOTS, RING_F_MP, RING_F_MC, RING_F_ADAPTIVE, R_MAGIC, R_SLOTS, R_MASK,
  R_CAPACITY, R_SLOT_BYTES, R_FLAGS, P_HEAD, P_TAIL, P_CACHED_CONS_TAIL, P_ENQUEUED, P_FULL, C_HEAD, C_TAIL,
  C_CACHED_PROD_TAIL, C_DEQUEUED, C_EMPTY, W_CONSUMERS, W_PRODUCERS, W_WAKEUPS, RING_E_ADDRESS, RING_E_SLOTS,
  RING_E_SLOT_BYTES, RING_E_FLAGS } from './ring';
export { SHAPER_BYTES, SH_PPS, SH_BURST_PKTS, SH_BYTES_PER_S, SH_BURST_BYTES, SH_TOKENS_PKTS, SH_TOKENS_BYTES,
  SH_LAST_NS } from './shaper';
export { CB_MAGIC, CB_VERSION, CB_TOTAL_BYTES, CB_FRAME_SIZE, CB_FRAME_COUNT, CB_META_SIZE, CB_QUEUES, CB_WORKERS,
  CB_REGION_COUNT, CB_RING_COUNT, CB_REGION_TABLE, CB_RING_TABLE, REGION_STATS, REGION_RINGS, REGION_FRAMES,
  REGION_META, REGION_KERNEL, REGION_SCRATCH } from './control';
export { SOURCE_BYTES, SRC_BASE, SRC_END, SRC_CURSOR, SRC_LOOPS, STREAM_RECORD_HEADER, SRC_WORKER, SRC_FLAGS,
  SRC_DONE, SRC_SPEED, SRC_START_NS, SRC_FIRST_TS, SRC_SENT, SRC_INPUT_END, SRC_F_ACTIVE, SRC_F_SPEED, SRC_F_LOSSY, SRC_F_RATE,
  SRC_F_REFILL, STREAM_WRAP } from './engine/replay';
export { WS_RUNNING, WS_INGEST_DONE, WS_STOPPED } from './engine/worker';
export { FLOW_RULE_BYTES, FLOW_M_SRC, FLOW_M_DST, FLOW_M_PROTO, FLOW_M_SPORT, FLOW_M_DPORT, FLOW_M_VLAN,
  FLOW_M_ETHERTYPE, FLOW_A_QUEUE, FLOW_A_DROP, FLOW_A_CLASS, FLOW_A_MARK, FR_MATCH, FR_FAMILY, FR_SRC_LEN, FR_DST_LEN,
  FR_PROTO, FR_SPORT_LO, FR_SPORT_HI, FR_DPORT_LO, FR_DPORT_HI, FR_VLAN, FR_ETHERTYPE, FR_ACTION, FR_QUEUE, FR_CLASS,
  FR_MARK, FR_SRC, FR_DST } from './engine/flow';
export { REC_TAG_FRAME, REC_TAG_KEEP, TX_NONE } from './engine/journal';
export { CLAIM_RING, CLAIM_HEAD, CLAIM_COUNT, CLAIM_SKIP, CLAIM_BYTES } from './engine/recover';
export { XSK_STATE_BYTES, XS_QUEUE, XS_UMEM, XS_SHIFT, XS_FIRST, XS_RX_FRAMES, XS_TX_FRAMES, XS_META, XS_HELD, XSK_RX,
  XSK_FILL, XSK_TX, XSK_COMP, XS_FREE, XS_FREE_COUNT, XS_TX_RESERVED, XS_RX_PKTS, XS_RX_BYTES, XS_TX_PKTS,
  XS_TX_BYTES, XS_FILL_SHORT, XS_KERNEL_FRAMES, XS_TX_INFLIGHT, XR_PROD, XR_CONS, XR_DESC, XR_FLAGS, XR_MASK, XR_SIZE,
  XR_CACHED_PROD, XR_CACHED_CONS } from './kernel/xsk';
export { TP_STATE_BYTES, TPS_VERSION, TPS_RING, TPS_UNIT, TPS_COUNT, TPS_CUR, TPS_REL, TPS_LEFT, TPS_OFF, TPS_OPEN,
  TPS_QUEUE, TPS_RECORDS, TPS_HELD, TPS_RX, TPS_RX_BYTES, TPS_TX_RING, TPS_TX_FRAME, TPS_TX_COUNT, TPS_TX_HEAD,
  TPS_TX_RESERVED, TPS_TX, TPS_TX_BYTES, TPS_HOLDERS, TPS_TX_INFLIGHT, TP_TX_DATA_OFFSET } from './kernel/tpacket';
