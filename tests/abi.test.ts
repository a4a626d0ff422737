// The mirror test: assembly/ is the source of truth for every layout, and the built module exports
// each constant as an immutable global (assembly/index.ts). Every TypeScript view of one (host/abi.ts,
// host/meta.ts, host/ptype.ts, host/layout.ts, host/engine/stats.ts, host/engine/flow.ts) and the
// generated C++ header (native/generated/meta.h) must hold the module's value; a global no view
// mirrors must be named in NOT_MIRRORED, so a new export cannot slip past either.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as abi from '../host/abi.js';
import * as layout from '../host/layout.js';
import * as ptype from '../host/ptype.js';
import { META, NEXT_NONE, OFFSET_NONE, VLAN_NONE } from '../host/meta.js';
import { DROP_REASONS, STAT_WORD } from '../host/engine/stats.js';
import { FLOW_A, FLOW_M, FLOW_RULE_BYTES } from '../host/engine/flow.js';
import { artefact } from '../host/paths.js';
import { compileEngine, engineImports } from '../host/wasm.js';

const instance = new WebAssembly.Instance(compileEngine(), engineImports(new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true })));
/** The module's exported globals, by name, as unsigned 32-bit values (negative error codes as they are). */
const globals = new Map<string, number>();
for (const [name, v] of Object.entries(instance.exports)) {
  if (!(v instanceof WebAssembly.Global)) continue;
  const x = v.value as number | bigint;
  globals.set(name, typeof x === 'bigint' ? Number(x) : x < 0 && !name.startsWith('RING_E_') ? x >>> 0 : x);
}

/** [module global, TS value, where the TS value lives]. */
const pairs: [string, number, string][] = [];
const pair = (g: string, v: number, where: string) => pairs.push([g, v, where]);
const each = (o: Record<string, number>, where: string, name: (k: string) => string, scale = 1) => {
  for (const [k, v] of Object.entries(o)) pair(name(k), v * scale, `${where}.${k}`);
};

// host/ptype.ts: named as in assembly/parse/ptype.ts.
for (const [k, v] of Object.entries(ptype)) if (typeof v === 'number') pair(k, v, `host/ptype.ts ${k}`);
// host/meta.ts
each(META, 'host/meta.ts META', (k) => (k === 'BYTES' ? 'META_BYTES' : `META_${k}`));
pair('NEXT_NONE', NEXT_NONE, 'host/meta.ts NEXT_NONE');
pair('OFFSET_NONE', OFFSET_NONE, 'host/meta.ts OFFSET_NONE');
pair('VLAN_NONE', VLAN_NONE, 'host/meta.ts VLAN_NONE');
// host/abi.ts
each(abi.EH, 'host/abi.ts EH', (k) => `EH_${k}`, 4);
pair('ENGINE_MAGIC', abi.ENGINE_MAGIC, 'host/abi.ts ENGINE_MAGIC');
pair('EH_RUN_STOP', abi.RUN_STOP, 'host/abi.ts RUN_STOP');
pair('EH_RSS_KEY', abi.RSS_KEY, 'host/abi.ts RSS_KEY');
each(abi.RT, 'host/abi.ts RT', (k) => `RT_${k}`);
each(abi.OPT, 'host/abi.ts OPT', (k) => `OPT_${k}`);
each(abi.WC, 'host/abi.ts WC', (k) => `WC_${k}`);
each(abi.WS, 'host/abi.ts WS', (k) => `WS_${k}`);
each(abi.SRC, 'host/abi.ts SRC', (k) => (k === 'BYTES' ? 'SOURCE_BYTES' : `SRC_${k}`));
each(abi.SRC_F, 'host/abi.ts SRC_F', (k) => `SRC_F_${k}`);
for (const k of ['RING_F_MP', 'RING_F_MC', 'RING_F_ADAPTIVE', 'RING_MAGIC'] as const) pair(k, abi[k], `host/abi.ts ${k}`);
const RING_FIELD: Record<keyof typeof abi.RingHeader, string> = {
  magic: 'R_MAGIC', slots: 'R_SLOTS', mask: 'R_MASK', capacity: 'R_CAPACITY', slotBytes: 'R_SLOT_BYTES', flags: 'R_FLAGS',
  prodHead: 'P_HEAD', prodTail: 'P_TAIL', prodCachedConsTail: 'P_CACHED_CONS_TAIL', enqueued: 'P_ENQUEUED', full: 'P_FULL',
  consHead: 'C_HEAD', consTail: 'C_TAIL', consCachedProdTail: 'C_CACHED_PROD_TAIL', dequeued: 'C_DEQUEUED', empty: 'C_EMPTY',
  consumersWaiting: 'W_CONSUMERS', producersWaiting: 'W_PRODUCERS', wakeups: 'W_WAKEUPS', bytes: 'RING_HEADER',
};
each(abi.RingHeader, 'host/abi.ts RingHeader', (k) => RING_FIELD[k as keyof typeof abi.RingHeader]);
for (const k of ['HIST_SUB_BITS', 'HIST_MAX_EXP', 'HIST_BUCKETS', 'CLAIM_BYTES', 'STREAM_WRAP'] as const) pair(k, abi[k], `host/abi.ts ${k}`);
// host/layout.ts
pair('CB_MAGIC', layout.LAYOUT_MAGIC, 'host/layout.ts LAYOUT_MAGIC');
pair('CB_VERSION', layout.LAYOUT_VERSION, 'host/layout.ts LAYOUT_VERSION');
pair('META_BYTES', layout.META_BYTES, 'host/layout.ts META_BYTES');
pair('RING_HEADER', layout.RING_HEADER_BYTES, 'host/layout.ts RING_HEADER_BYTES');
pair('STATS_BLOCK_BYTES', layout.STATS_BLOCK_BYTES, 'host/layout.ts STATS_BLOCK_BYTES');
pair('TX_HOLD_BYTES', layout.ENGINE_TX_HOLD_BYTES, 'host/layout.ts ENGINE_TX_HOLD_BYTES');
pair('SHAPER_BYTES', layout.ENGINE_SHAPER_BYTES, 'host/layout.ts ENGINE_SHAPER_BYTES');
pair('SOURCE_BYTES', layout.ENGINE_SOURCE_BYTES, 'host/layout.ts ENGINE_SOURCE_BYTES');
for (const [k, g] of [['Stats', 'REGION_STATS'], ['Rings', 'REGION_RINGS'], ['Frames', 'REGION_FRAMES'], ['Meta', 'REGION_META'], ['Kernel', 'REGION_KERNEL'], ['Scratch', 'REGION_SCRATCH']] as const)
  pair(g, layout.RegionKind[k], `host/layout.ts RegionKind.${k}`);
// host/engine/stats.ts: u64 word indexes of a stats block, the drop reasons in their order.
const STAT_NAME: Record<keyof typeof STAT_WORD, string> = {
  RX: 'STAT_RX_PACKETS', RX_BYTES: 'STAT_RX_BYTES', DELIVERED: 'STAT_DELIVERED', DELIVERED_BYTES: 'STAT_DELIVERED_BYTES', TX: 'STAT_TX_PACKETS',
  TX_BYTES: 'STAT_TX_BYTES', BURSTS: 'STAT_BURSTS', RECORDS_DROPPED: 'STAT_RECORDS_DROPPED', DROPS: 'STAT_DROPS', LAT_COUNT: 'STAT_LAT_COUNT',
  LAT_SUM: 'STAT_LAT_SUM', LAT_MAX: 'STAT_LAT_MAX', TX_DROPPED: 'STAT_TX_DROPPED',
};
each(STAT_WORD, 'host/engine/stats.ts STAT_WORD', (k) => STAT_NAME[k as keyof typeof STAT_WORD], 8);
DROP_REASONS.forEach((r, i) => r !== 'plugin' && pair(`STAT_DROP_${r.toUpperCase()}`, i, `host/engine/stats.ts DROP_REASONS[${i}]`));
// host/engine/flow.ts
each(FLOW_M, 'host/engine/flow.ts FLOW_M', (k) => `FLOW_M_${k}`);
each(FLOW_A, 'host/engine/flow.ts FLOW_A', (k) => `FLOW_A_${k}`);
pair('FLOW_RULE_BYTES', FLOW_RULE_BYTES, 'host/engine/flow.ts FLOW_RULE_BYTES');

/** Globals host/ has no TypeScript view of: only WASM code (and the generated header) uses them. */
const NOT_MIRRORED = /^(CB_(?!MAGIC$|VERSION$)|RING_E_|RING_MAX_SLOTS$|RING_F_MC$|PC_|TXH_|EH_(EXT_HOLDERS|W_TX)?$|XSK_(RX|FILL|TX|COMP)$|XS_|XSK_STATE_BYTES$|XR_|TPS_|TP_|FR_|SH_|SHAPER_RX$|FC_|REC_TAG_|TX_NONE$|CLAIM_(RING|HEAD|COUNT|SKIP)$|STAT_DROP_(REASONS|KERNEL)$|STAT_DROP_|HIST_BYTES$|RSS_KEY_BYTES$|SRC_(LOOPS|DONE|START_NS|FIRST_TS|SPEED|SENT)$|STREAM_RECORD_HEADER$|WC_(RX_PENDING)$|REGION_)/;

describe('layout constants: one source (assembly/), every view checked against the built module', () => {
  it('the module exports its layout constants as globals', () => {
    expect(globals.size).toBeGreaterThan(300);
  });

  it.each(pairs.map(([g, v, where]) => [where, g, v] as const))('%s equals the module\'s %s', (_where, g, v) => {
    expect(globals.has(g), `the module exports no ${g}`).toBe(true);
    expect(v).toBe(globals.get(g));
  });

  it('every exported global has a TS view or is named as WASM-only', () => {
    const mirrored = new Set(pairs.map(([g]) => g));
    const loose = [...globals.keys()].filter((g) => !mirrored.has(g) && !NOT_MIRRORED.test(g));
    expect(loose).toEqual([]);
  });

  it.each(abi.WALKER_OFFSETS)('the module exports %s, the walker-state offset the backends read from it', (g) => {
    expect(globals.has(g), `the module exports no ${g}`).toBe(true);
    expect(instance.exports[g]).toBeInstanceOf(WebAssembly.Global);
  });

  it('native/generated/meta.h holds the module\'s META_* values, each of them', () => {
    const header = readFileSync(artefact('native/generated/meta.h'), 'utf8');
    const defined = new Map([...header.matchAll(/^#define WW_(\w+) (\d+)u$/gm)].map((m) => [m[1], Number(m[2])]));
    const expected = [...globals].filter(([g]) => /^META_|^(NEXT|OFFSET|VLAN)_NONE$/.test(g));
    expect(expected.length).toBeGreaterThan(20);
    expect(Object.fromEntries(defined)).toEqual(Object.fromEntries(expected));
  });
});
