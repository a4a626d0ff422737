// Where a capture's header allows more than one reading, the reader reads it as libpcap does,
// checked against tcpdump (libpcap) on crafted files, one case each: a pcap record longer than the
// file's snaplen, pcap 2.0-2.2's swapped caplen/len, a pcapng packet longer than its interface's
// snaplen, and a captured length beyond libpcap's 262144 (named without contradicting itself).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureReader, CaptureReadError, MAX_RECORD_BYTES, takeAllRecords } from '../../host/pcap/index.js';
import { lacks } from '../support/tools.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'wwstream-libpcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An Ethernet/IPv4 frame of `n` bytes whose every byte after the headers is `tag`. */
const frame = (n: number, tag: number) => {
  const b = Buffer.alloc(n, tag);
  Buffer.from('ffffffffffff0011223344550800', 'hex').copy(b);
  return b;
};

interface Rec { caplen: number; len: number; data: Buffer }

function pcap(name: string, snaplen: number, recs: Rec[], minor = 4): string {
  const parts = [Buffer.alloc(24)];
  const h = parts[0];
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(minor, 6);
  h.writeUInt32LE(snaplen, 16);
  h.writeUInt32LE(1, 20);
  recs.forEach((r, i) => {
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(1000 + i, 0);
    rh.writeUInt32LE(r.caplen, 8);
    rh.writeUInt32LE(r.len, 12);
    parts.push(rh, r.data);
  });
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

function block(type: number, body: Buffer): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const b = Buffer.alloc(12 + padded.length);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(b.length, 4);
  padded.copy(b, 8);
  b.writeUInt32LE(b.length, b.length - 4);
  return b;
}

function pcapng(name: string, snaplen: number, recs: Rec[]): string {
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.alloc(8);
  idb.writeUInt16LE(1, 0);
  idb.writeUInt32LE(snaplen, 4);
  const epbs = recs.map((r, i) => {
    const h = Buffer.alloc(20);
    h.writeUInt32LE(1_000_000 * (i + 1), 8);
    h.writeUInt32LE(r.caplen, 12);
    h.writeUInt32LE(r.len, 16);
    return block(6, Buffer.concat([h, r.data]));
  });
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat([block(0x0a0d0d0a, shb), block(1, idb), ...epbs]));
  return file;
}

/** What we read: each record's captured and wire length and tag byte, and the error that ended the read. */
function ours(file: string): { recs: [number, number, number][]; error?: CaptureReadError } {
  const { records, problem } = takeAllRecords(CaptureReader.open(file), (r): [number, number, number] => [r.data.length, r.wireLength, r.data[20]]);
  return { recs: records, error: problem as CaptureReadError | undefined };
}

/** What tcpdump (libpcap) reads: its -w copy read back, and whether it stopped on an error. */
function libpcap(file: string): { recs: [number, number, number][]; failed: boolean; stderr: string } {
  const out = path.join(dir, 'tcpdump-out.pcap');
  rmSync(out, { force: true });
  const r = spawnSync('tcpdump', ['-r', file, '-w', out], { encoding: 'utf8' });
  return { recs: existsSync(out) ? ours(out).recs : [], failed: r.status !== 0, stderr: r.stderr };
}

describe.skipIf(lacks('tcpdump'))('the reader reads what libpcap reads (crafted files, against tcpdump)', () => {
  it('pcap record longer than the snaplen: cut to the snaplen, the rest passed over, the next record intact', () => {
    const file = pcap('snap.pcap', 100, [
      { caplen: 60, len: 60, data: frame(60, 1) },
      { caplen: 200, len: 200, data: frame(200, 2) },
      { caplen: 60, len: 60, data: frame(60, 3) },
    ]);
    const t = libpcap(file);
    expect(t.failed).toBe(false);
    expect(t.recs).toEqual([[60, 60, 1], [100, 200, 2], [60, 60, 3]]);
    expect(ours(file)).toEqual({ recs: t.recs });
  });

  it('pcap 2.2: caplen and len swapped by the writer are swapped back; 2.4 is taken as written', () => {
    const recs = [
      { caplen: 60, len: 60, data: frame(60, 1) },
      { caplen: 100, len: 60, data: frame(60, 2) },
      { caplen: 60, len: 60, data: frame(60, 3) },
    ];
    const old = pcap('v22.pcap', 65535, recs, 2);
    const t = libpcap(old);
    expect(t.failed).toBe(false);
    expect(t.recs).toEqual([[60, 60, 1], [60, 100, 2], [60, 60, 3]]);
    expect(ours(old)).toEqual({ recs: t.recs });
    // The same header fields in a 2.4 file mean 100 captured bytes: libpcap reads them so.
    const current = pcap('v24.pcap', 65535, [recs[0], { caplen: 100, len: 60, data: Buffer.concat([frame(60, 2), frame(40, 9)]) }, recs[2]]);
    const t24 = libpcap(current);
    expect(t24.recs.map((r) => r[0])).toEqual([60, 100, 60]);
    expect(ours(current).recs.map((r) => r[0])).toEqual([60, 100, 60]);
  });

  it("pcapng packet longer than its interface's snaplen: an error after the packets before it, as libpcap", () => {
    const file = pcapng('snap.pcapng', 100, [
      { caplen: 60, len: 60, data: frame(60, 1) },
      { caplen: 200, len: 200, data: frame(200, 2) },
      { caplen: 60, len: 60, data: frame(60, 3) },
    ]);
    const t = libpcap(file);
    expect(t.failed).toBe(true);
    expect(t.stderr).toMatch(/capture length 200, bigger than snaplen of 100/);
    const o = ours(file);
    expect(o.recs).toEqual(t.recs);
    expect(o.error?.message).toMatch(/^record 2: the packet has 200 captured bytes, more than the snaplen of 100 of interface 0: the file is corrupt \(at byte \d+\)$/);
  });

  it(`a captured length over ${MAX_RECORD_BYTES}: refused like libpcap, with a message that agrees with itself`, () => {
    const big = MAX_RECORD_BYTES + 37856;
    const recs = [{ caplen: 60, len: 60, data: frame(60, 1) }, { caplen: big, len: big, data: frame(big, 2) }, { caplen: 60, len: 60, data: frame(60, 3) }];
    for (const file of [pcap('huge.pcap', 65535, recs), pcapng('huge.pcapng', 0, recs)]) {
      const t = libpcap(file);
      expect(t.failed).toBe(true);
      expect(t.stderr).toMatch(new RegExp(`invalid packet capture length ${big}`));
      const o = ours(file);
      expect(o.recs).toEqual(t.recs);
      const m = o.error!.message;
      expect(m).toMatch(new RegExp(`^record 2: the (record|packet) claims ${big} captured bytes, more than the ${MAX_RECORD_BYTES} any pcap(ng)? writer produces: the file is corrupt`));
      // One length claimed, one limit, nothing said to hold the bytes it claims too many of.
      expect(m).not.toMatch(/holds|snaplen/);
    }
  });
});
