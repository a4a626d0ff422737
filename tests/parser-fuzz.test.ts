// Fuzz: millions of random and mutated frames (cuts, bit flips, length fields pointing past the
// end, random link types) through the WASM parser. Each frame is placed so that its last captured
// byte is the last byte of the whole WebAssembly.Memory: any read past caplen is an out-of-bounds
// access and traps, so "no trap" here proves "no read past caplen". Every record must also be
// self-consistent, the frame bytes unchanged, and the SIMD checksum path equal to the scalar one.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { META, OFFSET_NONE } from '../host/meta.js';
import { createParseEngine } from '../host/parser.js';
import { packageRoot } from '../host/paths.js';
import { readCaptureFile } from '../host/pcap/index.js';
import * as P from '../host/ptype.js';
import { generateCorpus, corpusBytes, xorshift32 } from '../bench/parse/corpus.js';

const FRAMES = Number(process.env.WW_FUZZ_FRAMES ?? 2_000_000);
const LINKTYPES = [1, 1, 1, 1, 113, 276, 101, 228, 229, 0, 108, 9999];

describe('fuzz: random and mutated frames', () => {
  const { layout, memory, exports: ex, u8, dv } = createParseEngine({ frameCount: 16, scratchBytes: corpusBytes(4096) + 65536 });
  const end = memory.buffer.byteLength;
  const meta = layout.metaAddress(0);
  const meta2 = layout.metaAddress(1);

  // Seeds: every frame of the real corpus (one of each of the first 3000) and the bench's mix.
  const seeds: { linktype: number; data: Uint8Array }[] = [];
  const corpusDir = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump');
  for (const f of readdirSync(corpusDir)) {
    const { records } = readCaptureFile(path.join(corpusDir, f));
    for (const r of records.slice(0, 20)) if (r.data.length <= 4096) seeds.push({ linktype: r.linktype, data: Uint8Array.from(r.data) });
  }
  const gen = generateCorpus(u8, layout.scratch.offset, 4096, 42);
  for (let i = 0; i < gen.count; i++) seeds.push({ linktype: 1, data: u8.slice(layout.scratch.offset + gen.offsets[i], layout.scratch.offset + gen.offsets[i] + gen.lengths[i]) });

  function place(frame: Uint8Array, len: number, linktype: number, m: number): number {
    const at = end - len;
    u8.set(frame.subarray(0, len), at);
    u8.fill(0xa5, m, m + META.BYTES);
    dv.setUint32(m + META.DATA, at, true);
    dv.setUint32(m + META.CAPLEN, len, true);
    dv.setUint32(m + META.WIRELEN, len, true);
    dv.setUint16(m + META.LINKTYPE, linktype, true);
    return at;
  }

  function checkRecord(m: number, caplen: number): string | undefined {
    const off = (f: number) => dv.getUint16(m + f, true);
    const ptype = dv.getUint32(m + META.PTYPE, true);
    const errors = dv.getUint32(m + META.ERRORS, true);
    const present = [META.L2, META.L3, META.L4, META.PAYLOAD, META.INNER_L3, META.INNER_L4].map(off).filter((o) => o !== OFFSET_NONE);
    if (present.some((o) => o > caplen)) return `offset past caplen ${caplen}: ${present}`;
    const [l2, l3, l4] = [off(META.L2), off(META.L3), off(META.L4)];
    if (l3 !== OFFSET_NONE && l2 !== OFFSET_NONE && l3 < l2) return 'l3 before l2';
    if (l4 !== OFFSET_NONE && l3 !== OFFSET_NONE && l4 < l3) return 'l4 before l3';
    const l4t = ptype & P.PTYPE_L4_MASK;
    if (l4t === P.PTYPE_L4_TCP && (l4 === OFFSET_NONE || l4 + 20 > caplen)) return 'TCP without a captured header';
    if (l4t === P.PTYPE_L4_UDP && (l4 === OFFSET_NONE || l4 + 8 > caplen)) return 'UDP without a captured header';
    if ((ptype & P.PTYPE_L3_MASK) !== 0 && l3 === OFFSET_NONE) return 'L3 type without an offset';
    if ((errors & ~0xffff) !== 0) return `undefined error bits ${errors.toString(16)}`;
    return undefined;
  }

  it(`parses ${FRAMES} frames with no trap, no read past caplen, consistent records, identical SIMD/scalar results`, () => {
    const r = xorshift32(Number(process.env.WW_FUZZ_SEED ?? 0xf00d));
    const buf = new Uint8Array(8192);
    const problems: string[] = [];
    let checksummed = 0;
    for (let n = 0; n < FRAMES && problems.length < 10; n++) {
      const mode = r() % 8;
      let len: number;
      let linktype: number;
      if (mode === 0) {
        len = r() % 256;
        for (let i = 0; i < len; i++) buf[i] = r() & 0xff;
        linktype = LINKTYPES[r() % LINKTYPES.length];
      } else {
        const s = seeds[r() % seeds.length];
        len = s.data.length;
        buf.set(s.data);
        linktype = r() % 16 === 0 ? LINKTYPES[r() % LINKTYPES.length] : s.linktype;
        if (mode <= 3) len = r() % (len + 1); // cut anywhere
        if (mode === 4 || mode === 5) for (let k = 1 + (r() % 4); k > 0; k--) if (len) buf[r() % len] ^= 1 << (r() & 7); // bit flips
        if (mode === 6 && len > 1) {
          // a length-ish field set to a large value somewhere in the first 80 bytes
          const at = r() % Math.min(len - 1, 80);
          buf[at] = 0xff;
          buf[at + 1] = r() & 0xff;
        }
        if (mode === 7) for (let k = 0; k < 3 && len; k++) buf[r() % Math.min(len, 64)] = r() & 0xff;
      }
      const flags = r() % 4 === 0 ? P.PARSE_VERIFY_CSUM : 0;
      const at = place(buf, len, linktype, meta);
      try {
        ex.parseFrame(meta, flags, 0);
      } catch (e) {
        problems.push(`frame ${n} (linktype ${linktype}, ${len} B, ${Buffer.from(buf.subarray(0, len)).toString('hex')}): ${(e as Error).message}`);
        continue;
      }
      const bad = checkRecord(meta, len);
      if (bad) problems.push(`frame ${n} (linktype ${linktype}, ${Buffer.from(buf.subarray(0, len)).toString('hex')}): ${bad}`);
      if (n % 64 === 0 && Buffer.compare(u8.subarray(at, end), buf.subarray(0, len)) !== 0) problems.push(`frame ${n}: the parser wrote into the frame`);
      if (flags) {
        // Same frame, same place, SIMD checksum path: the record must be identical.
        u8.copyWithin(meta2, meta, meta + META.BYTES);
        ex.parseFrame(meta2, flags | P.PARSE_SIMD, 0);
        if (Buffer.compare(u8.subarray(meta, meta + 48), u8.subarray(meta2, meta2 + 48)) !== 0) problems.push(`frame ${n}: SIMD and scalar checksum results differ`);
        checksummed++;
      }
    }
    expect(problems).toEqual([]);
    expect(checksummed).toBeGreaterThan(FRAMES / 8);
  }, 600_000);

  it('a read past the end of the memory does trap (the fixture can detect what it claims to)', () => {
    const probe = new Uint8Array([0x45]);
    place(probe, 1, 1, meta);
    // caplen lies: 20 bytes claimed, 1 captured at the very end of the memory.
    dv.setUint32(meta + META.CAPLEN, 20, true);
    dv.setUint32(meta + META.DATA, end - 1, true);
    expect(() => ex.parseFrame(meta, 0, 0)).toThrow(/out of bounds/);
  });

  it('SIMD and scalar checksums agree on every length 0..2048 and random contents, ending at the memory end', () => {
    const r = xorshift32(7);
    for (let len = 0; len <= 2048; len++) {
      const at = end - len;
      for (let i = 0; i < len; i++) u8[at + i] = r() & 0xff;
      expect(ex.internetChecksum(at, len, 1)).toBe(ex.internetChecksum(at, len, 0));
    }
    // All-ones data exercises the carries.
    u8.fill(0xff, end - 1500, end);
    expect(ex.internetChecksum(end - 1500, 1500, 1)).toBe(ex.internetChecksum(end - 1500, 1500, 0));
  });
});
