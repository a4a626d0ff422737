// pcap and pcapng reader and writer: round trips in every variant, the corpus files (every frame
// read, as many as tshark counts is checked by the differential test), and files written here
// read back by tshark, a reader no one here wrote.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureFormatError, readCapture, readCaptureFile, readPcapHeader, writePcap, writePcapng, type CaptureRecord } from '../../host/pcap/index.js';
import { packageRoot } from '../../host/paths.js';

const corpus = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump');
const dir = mkdtempSync(path.join(os.tmpdir(), 'wwparse-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function records(linktype: number, n: number, ifid = 0): CaptureRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const data = Uint8Array.from({ length: 60 + i }, (_, k) => (k * 7 + i) & 0xff);
    return { linktype, timestampNs: 1_700_000_000_123_456_789n + BigInt(i) * 1_000_001n, data, wireLength: data.length + (i % 3), interfaceId: ifid };
  });
}
const strip = (r: CaptureRecord, unitNs: bigint) => ({ ...r, timestampNs: (r.timestampNs / unitNs) * unitNs, data: [...r.data] });

describe('classic pcap', () => {
  for (const nanosecond of [false, true])
    for (const bigEndian of [false, true])
      it(`round-trips ${nanosecond ? 'nano' : 'micro'}second, ${bigEndian ? 'big' : 'little'}-endian files`, () => {
        const recs = records(1, 5);
        const bytes = writePcap(recs, { linktype: 1, nanosecond, bigEndian });
        const h = readPcapHeader(bytes);
        expect(h).toMatchObject({ nanosecond, bigEndian, linktype: 1, versionMajor: 2, versionMinor: 4 });
        const unit = nanosecond ? 1n : 1000n;
        expect([...readCapture(bytes)].map((r) => strip(r, 1n))).toEqual(recs.map((r) => strip(r, unit)));
      });

  it('reports a file cut inside a packet, after yielding the packets before it', () => {
    const bytes = writePcap(records(1, 3), { linktype: 1 });
    const problems: CaptureFormatError[] = [];
    const got = [...readCapture(bytes.subarray(0, bytes.length - 10), (e) => problems.push(e))];
    expect(got).toHaveLength(2);
    expect(problems[0].message).toMatch(/cut short/);
  });

  it('rejects a record with an impossible length, naming it', () => {
    const bytes = writePcap(records(1, 1), { linktype: 1 });
    new DataView(bytes.buffer).setUint32(24 + 8, 1 << 30, true);
    expect(() => [...readCapture(bytes)]).toThrow(/corrupt/);
  });

  it('rejects bytes that are no capture with what to give instead', () => {
    expect(() => readCapture(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/not a pcap or pcapng file/);
  });

  it('refuses to write two link types into one pcap', () => {
    expect(() => writePcap([...records(1, 1), ...records(101, 1)], { linktype: 1 })).toThrow(/pcapng/);
  });
});

describe('pcapng', () => {
  it('round-trips several interfaces with different link types and resolutions, both byte orders', () => {
    for (const bigEndian of [false, true]) {
      const itfs = [{ linktype: 1 }, { linktype: 101, resolution: 'ns' as const }, { linktype: 113 }];
      const recs = [...records(1, 2, 0), ...records(101, 2, 1), ...records(113, 2, 2)];
      const back = [...readCapture(writePcapng(itfs, recs, { bigEndian }))];
      expect(back.map((r) => strip(r, 1n))).toEqual(recs.map((r) => strip(r, r.interfaceId === 1 ? 1n : 1000n)));
    }
  });
});

describe('files written here, read by tshark', () => {
  const tshark = (file: string) =>
    execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=,', '-e', 'frame.time_epoch', '-e', 'frame.cap_len', '-e', 'frame.len', '-e', 'frame.interface_id'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split('\n');

  it('nanosecond big-endian pcap: tshark sees our timestamps and lengths', () => {
    const recs = records(1, 4);
    const file = path.join(dir, 'nano-be.pcap');
    writeFileSync(file, writePcap(recs, { linktype: 1, nanosecond: true, bigEndian: true }));
    const rows = tshark(file);
    expect(rows).toHaveLength(4);
    rows.forEach((row, i) => {
      const [t, cap, len] = row.split(',');
      const ns = recs[i].timestampNs;
      expect(t).toBe(`${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`);
      expect(Number(cap)).toBe(recs[i].data.length);
      expect(Number(len)).toBe(recs[i].wireLength);
    });
  });

  it('pcapng with three interfaces: tshark sees each packet on its interface', () => {
    const recs = [...records(1, 2, 0), ...records(101, 2, 1), ...records(113, 1, 2)];
    const file = path.join(dir, 'multi.pcapng');
    writeFileSync(file, writePcapng([{ linktype: 1 }, { linktype: 101, resolution: 'ns' }, { linktype: 113 }], recs));
    expect(tshark(file).map((r) => Number(r.split(',')[3]))).toEqual(recs.map((r) => r.interfaceId));
  });
});

describe('the corpus', () => {
  it('reads the pcapng files of the corpus, big-endian pcap included, with their link types', () => {
    const a = readCaptureFile(path.join(corpus, 'geneve.pcap'));
    expect(a.records.length).toBeGreaterThan(0);
    expect(a.problem).toBeUndefined();
    expect(new Set(a.records.map((r) => r.linktype))).toEqual(new Set([1]));
  });
});
