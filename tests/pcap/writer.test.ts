// The streaming capture writers: records written one at a time through a bounded buffer, to a file
// or a pipe, read back by tshark and tcpdump (references that share no code with ours); pcapng
// comments (section and packet) read from a file and written back out survive the round trip.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureReader, PcapngWriter, PcapWriter, WRITE_CHUNK_BYTES, type CaptureRecord } from '../../host/pcap/index.js';
import { lacks } from '../support/tools.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'wwstream-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function records(n: number): CaptureRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const data = Uint8Array.from({ length: 60 + ((i * 131) % 1400) }, (_, k) => (k * 7 + i) & 0xff);
    return { linktype: 1, timestampNs: 1_700_000_000_123_456_789n + BigInt(i) * 1_000_000n, data, wireLength: data.length + (i % 3), interfaceId: 0 };
  });
}

const readBack = (file: string) => {
  const reader = CaptureReader.open(file);
  try {
    // A record's bytes are valid until the reader reads on: copied out one by one.
    const records = [];
    for (const r of reader) records.push({ ...r, data: Buffer.from(r.data).toString('hex') });
    return { records, comment: reader.sectionComment };
  } finally {
    reader.close();
  }
};

describe('streaming capture writers', () => {
  it('PcapWriter: a file many times its buffer, written record by record, reads back record for record', () => {
    const recs = records(4000);
    const file = path.join(dir, 'many.pcap');
    const w = PcapWriter.open(file, { linktype: 1, nanosecond: true });
    for (const r of recs) w.write(r);
    w.close();
    expect(statSync(file).size).toBeGreaterThan(2 * WRITE_CHUNK_BYTES);
    expect(readBack(file).records).toEqual(recs.map((r) => ({ ...r, data: Buffer.from(r.data).toString('hex') })));
  });

  it.skipIf(lacks('tcpdump'))('PcapngWriter to a pipe: tcpdump reading the other end sees every packet with its length', async () => {
    // Ethertype 0x88b5 (local experimental): tcpdump prints one line per frame, then its hex.
    const recs = records(3000).map((r) => ({ ...r, data: Uint8Array.from(r.data, (b, k) => (k === 12 ? 0x88 : k === 13 ? 0xb5 : b)) }));
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // tcpdump's output goes to a file: nothing here reads while the writer blocks.
    const text = path.join(dir, 'tcpdump.txt');
    const fd = openSync(text, 'w');
    const tcpdump = spawn('tcpdump', ['-r', fifo, '-nn', '-e', '-tt'], { stdio: ['ignore', fd, 'ignore'] });
    closeSync(fd);
    const done = new Promise((res) => tcpdump.on('close', res));
    // Blocking writes into the pipe: tcpdump's pace sets ours.
    const w = PcapngWriter.open(fifo, [{ linktype: 1, resolution: 'ns' }]);
    for (const r of recs) w.write(r);
    w.close();
    await done;
    // One line per packet; the hex dump of the frames' unknown ethertype follows on tab-indented lines.
    const lens = readFileSync(text, 'utf8').trim().split('\n').filter((l) => !l.startsWith('\t')).map((l) => Number(/length (\d+):/.exec(l)?.[1]));
    expect(lens).toEqual(recs.map((r) => r.wireLength));
  });

  it.skipIf(lacks('tshark') || lacks('editcap'))('pcapng comments: a file commented by editcap, read and written back, keeps them for tshark', () => {
    const plain = path.join(dir, 'plain.pcapng');
    const w = PcapngWriter.open(plain, [{ linktype: 1, resolution: 'ns' }]);
    for (const r of records(6)) w.write(r);
    w.close();
    const commented = path.join(dir, 'commented.pcapng');
    execFileSync('editcap', ['--capture-comment', 'section: the lab ü', '-a', '2:second packet', '-a', '5:fifth, with ünïcode', plain, commented]);
    const read = readBack(commented);
    expect(read.comment).toBe('section: the lab ü');
    expect(read.records.map((r) => r.comment)).toEqual([undefined, 'second packet', undefined, undefined, 'fifth, with ünïcode', undefined]);
    // Written back through our writer, then asked of tshark.
    const again = path.join(dir, 'again.pcapng');
    const reader = CaptureReader.open(commented);
    const out = PcapngWriter.open(again, [{ linktype: 1, resolution: 'ns' }], { comment: 'section: the lab ü' });
    for (const r of reader) out.write(r);
    out.close();
    reader.close();
    const rows = execFileSync('tshark', ['-r', again, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'frame.comment'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim().split('\n');
    expect(rows).toEqual(['1|', '2|second packet', '3|', '4|', '5|fifth, with ünïcode', '6|']);
    const info = execFileSync('capinfos', ['-k', again], { encoding: 'utf8' });
    expect(info).toMatch(/section: the lab ü/);
    // And bytes untouched: what tshark would hash is what we read.
    expect(readBack(again).records).toEqual(read.records);
    expect(readFileSync(again).length % 4).toBe(0);
  });

  it('refuses what the format cannot hold, naming it', () => {
    const w = PcapWriter.open(path.join(dir, 'one.pcap'), { linktype: 1 });
    expect(() => w.write({ ...records(1)[0], linktype: 101 })).toThrow(/pcap holds one link type \(1\) but a record has 101: write pcapng/);
    w.close();
    const n = PcapngWriter.open(path.join(dir, 'one.pcapng'), [{ linktype: 1 }]);
    expect(() => n.write({ ...records(1)[0], interfaceId: 3 })).toThrow(/record names interface 3, but 1 were given/);
    n.close();
  });
});
