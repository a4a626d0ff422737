// Flow-director matching in WASM on parsed frames: IPv4 and IPv6 prefixes, port ranges, protocol,
// VLAN id, ethertype (after VLAN tags), first match wins, and a rule never matches the other family.
import { describe, expect, it } from 'vitest';
import { computeLayout, createMemory } from '../../host/layout.js';
import { compileEngine, instantiateEngine } from '../../host/wasm.js';
import { META } from '../../host/meta.js';
import { encodeFlowRule } from '../../host/engine/flow.js';
import { buildFrame } from '../../host/gen/frames.js';

function ipv6Udp(src: string, dst: string, sport: number, dport: number): Uint8Array {
  const b = new Uint8Array(14 + 40 + 8 + 8);
  const v = new DataView(b.buffer);
  v.setUint16(12, 0x86dd);
  b[14] = 0x60;
  v.setUint16(18, 16);
  b[20] = 17;
  b[21] = 64;
  const put = (text: string, at: number) => {
    const [h, t] = text.split('::');
    const hs = h ? h.split(':') : [];
    const ts = t ? t.split(':') : [];
    [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts].forEach((g, i) => v.setUint16(at + 2 * i, parseInt(g, 16)));
  };
  put(src, 22);
  put(dst, 38);
  v.setUint16(54, sport);
  v.setUint16(56, dport);
  v.setUint16(58, 16);
  return b;
}

const arp = () => {
  const b = new Uint8Array(60);
  new DataView(b.buffer).setUint16(12, 0x0806);
  b.set([0, 1, 8, 0, 6, 4, 0, 1], 14);
  return b;
};

describe('flowMatch', () => {
  const layout = computeLayout({ frameCount: 16, scratchBytes: 65536 });
  const memory = createMemory(layout);
  const w = instantiateEngine(compileEngine(), memory) as unknown as { parseFrame(m: number, f: number, t: number): number; flowMatch(t: number, n: number, m: number): number };
  const base = layout.scratch.offset;
  const table = base;
  const meta = base + 8192;
  const data = base + 8256;

  const match = (rules: string[], frame: Uint8Array) => {
    rules.forEach((r, i) => new Uint8Array(memory.buffer).set(encodeFlowRule(r, { workers: 4, classes: 4 }), table + i * 64));
    const bytes = new Uint8Array(memory.buffer);
    bytes.fill(0, meta, meta + 64);
    bytes.set(frame, data);
    const dv = new DataView(memory.buffer);
    dv.setUint32(meta + META.DATA, data, true);
    dv.setUint32(meta + META.CAPLEN, frame.length, true);
    dv.setUint16(meta + META.LINKTYPE, 1, true);
    w.parseFrame(meta, 0, 0);
    return w.flowMatch(table, rules.length, meta);
  };

  const v4 = buildFrame({ src: '10.1.2.3', dst: '192.168.0.9', sport: 1234, dport: 53 });
  const v6 = ipv6Udp('2001:db8:1::5', 'fd00::1', 4000, 443);

  it('matches IPv4 and IPv6 prefixes of any length, only within their family', () => {
    expect(match(['src 10.0.0.0/8 -> drop'], v4)).toBe(0);
    expect(match(['src 10.1.2.2/31 -> drop'], v4)).toBe(0);
    expect(match(['src 10.1.2.4/31 -> drop'], v4)).toBe(-1);
    expect(match(['dst 192.168.0.9 -> drop'], v4)).toBe(0);
    expect(match(['src 2001:db8::/32 -> drop'], v6)).toBe(0);
    expect(match(['src 2001:db8:1::4/127 -> drop'], v6)).toBe(0);
    expect(match(['src 2001:db8:2::/48 -> drop'], v6)).toBe(-1);
    expect(match(['dst fd00::/8 -> drop'], v6)).toBe(0);
    expect(match(['src 0.0.0.0/0 -> drop'], v6)).toBe(-1);
    expect(match(['src ::/0 -> drop'], v4)).toBe(-1);
  });

  it('matches ports and ranges, protocol, VLAN id and ethertype after tags; the first match wins', () => {
    expect(match(['dport 53 -> drop'], v4)).toBe(0);
    expect(match(['sport 1000-1233 -> drop', 'sport 1234-1300 -> drop'], v4)).toBe(1);
    expect(match(['proto tcp -> drop', 'proto udp -> mark 1'], v4)).toBe(1);
    expect(match(['proto udp dport 443 -> drop'], v6)).toBe(0);
    expect(match(['vlan 7 -> drop'], v4)).toBe(-1);
    expect(match(['vlan 7 -> drop'], buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, vlan: 7 }))).toBe(0);
    expect(match(['ethertype ipv4 -> drop'], buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, vlan: 7 }))).toBe(0);
    expect(match(['ethertype ipv6 -> drop'], v6)).toBe(0);
    expect(match(['ethertype arp -> drop'], arp())).toBe(0);
    expect(match(['dport 53 -> drop'], arp())).toBe(-1);
    expect(match(['ethertype ipv6 -> drop', 'vlan 1 -> drop', 'sport 9 -> drop'], v4)).toBe(-1);
  });
});
