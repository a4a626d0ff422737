// Toeplitz RSS against the standard verification vectors (../shared/vectors/rss-toeplitz.json),
// through the table the engine builds from the key, the bit-by-bit reference, and the parser's
// META_HASH of real frames; symmetric mode against the asymmetric hash of the ordered tuple.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FrameParser, RSS_TABLE_BYTES } from '../host/parser.js';
import { packageRoot } from '../host/paths.js';
import * as P from '../host/ptype.js';

const vectors = JSON.parse(readFileSync(path.join(packageRoot, '..', 'shared', 'vectors', 'rss-toeplitz.json'), 'utf8')) as {
  key_hex: string;
  vectors: { src: string; dst: string; sport: number; dport: number; hash_ip: string; hash_ip_l4: string }[];
};
const key = Uint8Array.from(Buffer.from(vectors.key_hex, 'hex'));

function addrBytes(a: string): number[] {
  if (a.includes('.')) return a.split('.').map(Number);
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** An Ethernet frame carrying UDP between the vector's endpoints. */
function frame(v: { src: string; dst: string; sport: number; dport: number }): Uint8Array {
  const s = addrBytes(v.src);
  const d = addrBytes(v.dst);
  const udp = [v.sport >> 8, v.sport & 0xff, v.dport >> 8, v.dport & 0xff, 0, 8, 0, 0];
  const eth = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  if (s.length === 4) return Uint8Array.from([...eth, 0x08, 0x00, 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, ...s, ...d, ...udp]);
  return Uint8Array.from([...eth, 0x86, 0xdd, 0x60, 0, 0, 0, 0, 8, 17, 64, ...s, ...d, ...udp]);
}

describe('Toeplitz RSS', () => {
  const parser = new FrameParser({ flags: P.PARSE_RSS, rssKey: key });
  const mem = new Uint8Array(parser.memory.buffer);
  const table = parser.layout.scratch.offset;
  const scratch = table + RSS_TABLE_BYTES + 4096 + (1 << 20);
  const ex = parser.exports;

  it.each(vectors.vectors)('$src -> $dst: table and bit-by-bit hashes equal the vector', (v) => {
    const ip = [...addrBytes(v.src), ...addrBytes(v.dst)];
    const l4 = [...ip, v.sport >> 8, v.sport & 0xff, v.dport >> 8, v.dport & 0xff];
    mem.set(ip, scratch);
    expect((ex.toeplitz(table, scratch, ip.length) >>> 0).toString(16).padStart(8, '0')).toBe(v.hash_ip.slice(2));
    mem.set(l4, scratch);
    expect((ex.toeplitz(table, scratch, l4.length) >>> 0).toString(16).padStart(8, '0')).toBe(v.hash_ip_l4.slice(2));
    const keyAddr = scratch + 64;
    mem.set(key, keyAddr);
    expect((ex.toeplitzBitwise(keyAddr, key.length, scratch, l4.length) >>> 0).toString(16).padStart(8, '0')).toBe(v.hash_ip_l4.slice(2));
  });

  it('the parser writes the 5-tuple hash of each frame into META_HASH', () => {
    const got: string[] = [];
    parser.parse(vectors.vectors.map((v) => ({ linktype: 1, timestampNs: 0n, data: frame(v), wireLength: frame(v).length, interfaceId: 0 })), (pkt) => {
      got.push('0x' + pkt.hash.toString(16).padStart(8, '0'));
    });
    expect(got).toEqual(vectors.vectors.map((v) => v.hash_ip_l4));
  });

  it('L3-only mode hashes the addresses alone', () => {
    const p3 = new FrameParser({ flags: P.PARSE_RSS | P.PARSE_RSS_L3_ONLY, rssKey: key });
    const got: string[] = [];
    p3.parse(vectors.vectors.map((v) => ({ linktype: 1, timestampNs: 0n, data: frame(v), wireLength: 60, interfaceId: 0 })), (pkt) => got.push('0x' + pkt.hash.toString(16).padStart(8, '0')));
    expect(got).toEqual(vectors.vectors.map((v) => v.hash_ip));
  });

  it('symmetric mode: both directions hash alike, equal to the asymmetric hash of the ordered tuple', () => {
    const sym = new FrameParser({ flags: P.PARSE_RSS | P.PARSE_RSS_SYMMETRIC, rssKey: key });
    const recs = vectors.vectors.flatMap((v) => [v, { src: v.dst, dst: v.src, sport: v.dport, dport: v.sport }]);
    const hashes: number[] = [];
    sym.parse(recs.map((v) => ({ linktype: 1, timestampNs: 0n, data: frame(v), wireLength: 60, interfaceId: 0 })), (pkt) => hashes.push(pkt.hash));
    const asym: number[] = [];
    parser.parse(recs.map((v) => ({ linktype: 1, timestampNs: 0n, data: frame(v), wireLength: 60, interfaceId: 0 })), (pkt) => asym.push(pkt.hash));
    for (let i = 0; i < recs.length; i += 2) {
      expect(hashes[i]).toBe(hashes[i + 1]);
      // The ordered tuple is whichever direction has the lower source address.
      const a = Buffer.from(addrBytes(recs[i].src));
      const b = Buffer.from(addrBytes(recs[i].dst));
      expect(hashes[i]).toBe(Buffer.compare(a, b) <= 0 ? asym[i] : asym[i + 1]);
    }
    // Asymmetric hashes of the two directions differ (otherwise the test above proves nothing).
    expect(asym.filter((h, i) => i % 2 === 0 && h !== asym[i + 1]).length).toBeGreaterThan(0);
  });

  it('a key shorter than 40 bytes is refused with the reason', () => {
    expect(() => new FrameParser({ rssKey: key.subarray(0, 16) })).toThrow(/40/);
  });

  it('flowKey writes the 5-tuple record', () => {
    const v = vectors.vectors[0];
    parser.parse([{ linktype: 1, timestampNs: 0n, data: frame(v), wireLength: 60, interfaceId: 0 }], (pkt) => {
      const out = scratch + 4096;
      expect(ex.flowKey(pkt.meta, out)).toBe(1);
      expect([...mem.subarray(out, out + 4)]).toEqual(addrBytes(v.src));
      expect([...mem.subarray(out + 16, out + 20)]).toEqual(addrBytes(v.dst));
      expect((mem[out + 32] << 8) | mem[out + 33]).toBe(v.sport);
      expect((mem[out + 34] << 8) | mem[out + 35]).toBe(v.dport);
      expect(mem[out + 36]).toBe(17);
      expect(mem[out + 37]).toBe(4);
    });
  });
});
