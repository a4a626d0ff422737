// Plugin ABI v1: the contract between the engine and a parser plugin (docs/plugins.md explains it
// to plugin authors). These constants are the ABI: never change a value; add v2 beside it.
//
// The 64-byte metadata block the host writes before each packet's bytes (little-endian):
//
//  0               4               8               12              16
//  +---------------+-------+-------+-------+-------+---------------+
//  | ptype u32     | l2    | l3    | l4    | paylod| flow hash u32 |   offsets relative to `ptr`,
//  +---------------+-------+-------+-------+-------+---------------+   0xFFFF: absent or not copied
//  | timestamp ns (u64)            | queue | vlan  | wire length   |   16..31
//  +---------------+---------------+---------------+---------------+
//  | error flags   | len u32       | ptr u32       | next u32      |   32..47
//  +---------------+---------------+---------------+---------------+
//  | verdict i32   | mark u32      | reserved, zero                |   48..63
//  +---------------+---------------+-------------------------------+
//
// len/ptr   the bytes of this packet the plugin may read (in its own memory when isolated).
// next      address of the next block of the burst, 0 after the last (wirewasm_on_burst walks it).
// verdict   wirewasm_on_burst writes each packet's verdict here (the host zeroes it: pass).
// mark      the flow-director mark of the rule that routed the packet (0 when routed by port/all).

export const ABI_VERSION = 1;
export const ABI_META_BYTES = 64;
export const ABI = {
  PTYPE: 0,
  L2: 4,
  L3: 6,
  L4: 8,
  PAYLOAD: 10,
  HASH: 12,
  TIMESTAMP: 16,
  QUEUE: 24,
  VLAN: 26,
  WIRELEN: 28,
  ERRORS: 32,
  LEN: 36,
  PTR: 40,
  NEXT: 44,
  VERDICT: 48,
  MARK: 52,
} as const;

/** Exports and imports by name, with the signature each must have. */
export const MARKER = 'wirewasm_abi_v1';
export const REQUIRED_EXPORTS = {
  [MARKER]: { params: [], results: [] },
  wirewasm_input: { params: ['i32'], results: ['i32'] },
  wirewasm_on_packet: { params: ['i32', 'i32', 'i32'], results: ['i32'] },
} as const;
export const OPTIONAL_EXPORTS = {
  wirewasm_init: { params: [], results: ['i32'] },
  wirewasm_on_tick: { params: ['i64'], results: [] },
  wirewasm_on_burst: { params: ['i32', 'i32'], results: ['i32'] },
} as const;
export const ALLOWED_IMPORTS: Record<string, { params: string[]; results: string[] }> = {
  'wirewasm.emit': { params: ['i32', 'i32', 'i32'], results: [] },
  'wirewasm.log': { params: ['i32', 'i32', 'i32'], results: [] },
  'wirewasm.counter_add': { params: ['i32', 'i64'], results: [] },
  'wirewasm.now_ns': { params: [], results: ['i64'] },
  'env.abort': { params: ['i32', 'i32', 'i32', 'i32'], results: [] },
};
/** The one extra import of a trusted plugin: the engine's shared memory. */
export const TRUSTED_MEMORY_IMPORT = 'env.memory';

/** Verdicts a plugin returns (or writes at ABI.VERDICT); negative values are its error codes. */
export const VERDICT_PASS = 0;
export const VERDICT_DROP = 1;

/** What the host copies into an isolated plugin, from the start of that layer to the end of the capture. */
export type CopyMode = 'payload' | 'l4' | 'l3' | 'frame';
export const COPY_MODES: Record<CopyMode, number> = { frame: 0, l3: 1, l4: 2, payload: 3 };

/** What happens to a quarantined plugin's packets. */
export type Policy = 'open' | 'closed';

export const DEFAULT_MEMORY_LIMIT = 16 * 1024 * 1024;
