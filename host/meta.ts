// Offsets of the 64-byte frame metadata record; the diagram and meaning of each field are in
// assembly/meta.ts, which this mirrors (tests/abi.test.ts checks the two agree).
export const META = {
  BYTES: 64,
  DATA: 0,
  CAPLEN: 4,
  WIRELEN: 8,
  PTYPE: 12,
  TIMESTAMP: 16,
  L2: 24,
  L3: 26,
  L4: 28,
  PAYLOAD: 30,
  INNER_L3: 32,
  INNER_L4: 34,
  VLAN0: 36,
  VLAN1: 38,
  HASH: 40,
  ERRORS: 44,
  QUEUE: 48,
  LINKTYPE: 50,
  MARK: 52,
  REFCNT: 56,
  NEXT: 60,
} as const;

export const OFFSET_NONE = 0xffff;
export const VLAN_NONE = 0xffff;
export const NEXT_NONE = 0xffffffff;
