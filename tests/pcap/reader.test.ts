// The streaming capture reader: a capture read in chunks much smaller than the file gives exactly
// the records of the whole file in memory; pcapng blocks of any type are skipped by their length
// (also ones larger than the reader's buffer); per-interface link types and timestamp resolutions;
// damage ends the read with the record number and byte offset named.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureReader, CaptureReadError, readCapture, takeAllRecords, writePcap, writePcapng, type CaptureRecord } from '../../host/pcap/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'wwstream-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function records(n: number, linktype = 1, ifid = 0): CaptureRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const data = Uint8Array.from({ length: 60 + ((i * 37) % 1400) }, (_, k) => (k * 13 + i) & 0xff);
    return { linktype, timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, data, wireLength: data.length + (i % 2), interfaceId: ifid };
  });
}

const plain = (r: CaptureRecord) => ({ ...r, data: Buffer.from(r.data).toString('hex') });

function readAll(file: string, chunk: number): { got: ReturnType<typeof plain>[]; error?: CaptureReadError } {
  const { records, problem } = takeAllRecords(CaptureReader.open(file, chunk), plain);
  return { got: records, error: problem as CaptureReadError | undefined };
}

describe('streaming capture reader', () => {
  it('reads a pcap many times its buffer in chunks: the same records as the whole file in memory', () => {
    const recs = records(3000);
    const bytes = writePcap(recs, { linktype: 1, nanosecond: true });
    const file = path.join(dir, 'big.pcap');
    writeFileSync(file, bytes);
    expect(bytes.length).toBeGreaterThan(30 * 65536);
    const { got, error } = readAll(file, 65536);
    expect(error).toBeUndefined();
    expect(got).toEqual([...readCapture(bytes)].map(plain));
    expect(got.map((r) => r.timestampNs)).toEqual(recs.map((r) => r.timestampNs));
  });

  it('pcapng: two interfaces with their own link type and resolution; unknown blocks, one larger than the buffer, skipped by length', () => {
    const a = records(500, 1, 0);
    const b = records(500, 101, 1).map((r) => ({ ...r, timestampNs: r.timestampNs + 7n }));
    const mixed = a.flatMap((r, i) => [r, b[i]]);
    const bytes = writePcapng([{ linktype: 1 }, { linktype: 101, resolution: 'ns' }], mixed);
    // A custom block (type 0x00000bad, 17 MiB: above the largest block read whole) after the interfaces.
    const custom = (len: number) => {
      const blk = new Uint8Array(len);
      const v = new DataView(blk.buffer);
      v.setUint32(0, 0xbad, true);
      v.setUint32(4, len, true);
      v.setUint32(len - 4, len, true);
      return blk;
    };
    const idbEnd = 28 + 20 + 32; // SHB 28, IDB 20, IDB with if_tsresol 32
    const file = path.join(dir, 'mixed.pcapng');
    writeFileSync(file, Buffer.concat([bytes.subarray(0, idbEnd), custom(17 << 20), custom(64), bytes.subarray(idbEnd)]));
    const { got, error } = readAll(file, 65536);
    expect(error).toBeUndefined();
    expect(got.map((r) => [r.linktype, r.interfaceId, r.timestampNs])).toEqual(mixed.map((r) => [r.linktype, r.interfaceId, r.interfaceId === 0 ? (r.timestampNs / 1000n) * 1000n : r.timestampNs]));
    expect(got.map((r) => r.data)).toEqual(mixed.map((r) => Buffer.from(r.data).toString('hex')));
  });

  it('a corrupt record mid-file: every record before it, then its number and byte offset', () => {
    const recs = records(2000);
    const bytes = writePcap(recs, { linktype: 1 });
    // Record 1234's offset: the file header, then 16 + caplen per record.
    let at = 24;
    for (let i = 0; i < 1233; i++) at += 16 + recs[i].data.length;
    new DataView(bytes.buffer).setUint32(at + 8, 0x7fffffff, true);
    const file = path.join(dir, 'corrupt.pcap');
    writeFileSync(file, bytes);
    const { got, error } = readAll(file, 65536);
    expect(got).toHaveLength(1233);
    expect(error?.record).toBe(1234);
    expect(error?.offset).toBe(at);
    expect(error?.truncated).toBe(false);
    expect(error?.message).toMatch(/^record 1234: .*corrupt.*\(at byte \d+\)$/);
  });

  it('a file cut inside a packet: every whole record, then the cut one named as truncated', () => {
    const recs = records(100);
    const bytes = writePcap(recs, { linktype: 1 });
    const file = path.join(dir, 'cut.pcap');
    writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    const { got, error } = readAll(file, 65536);
    expect(got).toHaveLength(99);
    expect(error?.record).toBe(100);
    expect(error?.truncated).toBe(true);
    expect(error?.offset).toBe(bytes.length - 16 - recs[99].data.length);
  });
});
