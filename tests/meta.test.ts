// The metadata record is written by WASM and read by host/: both sides must use the same offsets.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { META, NEXT_NONE, OFFSET_NONE, VLAN_NONE } from '../host/meta.js';
import { META_BYTES } from '../host/layout.js';
import { artefact } from '../host/paths.js';

const source = readFileSync(artefact('assembly/meta.ts'), 'utf8');
const asConst = (name: string) => {
  const m = new RegExp(`export const ${name}: \\w+ = (0x[0-9a-f]+|\\d+);`).exec(source);
  if (!m) throw new Error(`assembly/meta.ts has no constant ${name}`);
  return Number(m[1]);
};
const camelToAs = (k: string) => (k === 'BYTES' ? 'META_BYTES' : `META_${k}`);

describe('frame metadata layout', () => {
  it.each(Object.entries(META))('%s has the same offset in assembly/meta.ts and host/meta.ts', (k, v) => {
    expect(asConst(camelToAs(k))).toBe(v);
  });
  it('is one cache line, as the memory map sizes it', () => {
    expect(META.BYTES).toBe(64);
    expect(META_BYTES).toBe(64);
  });
  it('has non-overlapping fields that fill the record', () => {
    const sizes: Record<string, number> = { TIMESTAMP: 8, DATA: 4, CAPLEN: 4, WIRELEN: 4, PTYPE: 4, HASH: 4, ERRORS: 4, MARK: 4, REFCNT: 4, NEXT: 4, LINKTYPE: 2 };
    const fields = Object.entries(META).filter(([k]) => k !== 'BYTES').map(([k, off]) => [off, sizes[k] ?? 2] as const).sort((a, b) => a[0] - b[0]);
    let end = 0;
    for (const [off, size] of fields) {
      expect(off).toBeGreaterThanOrEqual(end);
      end = off + size;
    }
    expect(end).toBe(64);
  });
  it('uses the same "absent" markers', () => {
    expect(asConst('OFFSET_NONE')).toBe(OFFSET_NONE);
    expect(asConst('VLAN_NONE')).toBe(VLAN_NONE);
    expect(asConst('NEXT_NONE')).toBe(NEXT_NONE);
  });
});
