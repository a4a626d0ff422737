// host/ptype.ts mirrors assembly/parse/ptype.ts; the engine module exports the parser with the signature
// host code and the engine helper call.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as P from '../host/ptype.js';
import { artefact } from '../host/paths.js';

const source = readFileSync(artefact('assembly/parse/ptype.ts'), 'utf8');
const asConsts = [...source.matchAll(/export const (\w+): u32 = ([^;]+);/g)].map(([, name, expr]) => [name, expr] as const);

describe('ptype and error bits', () => {
  it('assembly/parse/ptype.ts defines constants (the reader found them)', () => {
    expect(asConsts.length).toBeGreaterThan(60);
  });
  it.each(asConsts)('%s has the same value on the host', (name, expr) => {
    const value = Function(`return (${expr.replace(/<u32>/g, '')});`)() as number;
    expect((P as unknown as Record<string, number>)[name]).toBe(value);
  });
  it('error bits are distinct single bits and every one has a name', () => {
    const bits = P.ERROR_NAMES.map(([b]) => b);
    for (const b of bits) expect(b & (b - 1)).toBe(0);
    expect(new Set(bits).size).toBe(bits.length);
    const all = asConsts.filter(([n]) => n.startsWith('ERR_')).map(([n]) => (P as unknown as Record<string, number>)[n]);
    expect(new Set(all)).toEqual(new Set(bits));
  });
  it('names a packet type outer to inner', () => {
    expect(P.ptypeName(P.PTYPE_L2_ETHER_VLAN | P.PTYPE_L3_IPV4 | P.PTYPE_L4_UDP | P.PTYPE_TUNNEL_VXLAN | P.PTYPE_INNER_L2_ETHER | P.PTYPE_INNER_L3_IPV6 | P.PTYPE_INNER_L4_TCP)).toBe(
      'ether-vlan ipv4 udp vxlan inner-ether inner-ipv6 inner-tcp',
    );
    expect(P.errorNames(P.ERR_TRUNC_L4 | P.ERR_FRAGMENT)).toEqual(['truncated-l4', 'fragment']);
  });
});
