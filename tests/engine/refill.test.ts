// A capture file replayed through the refilled ring (host/engine/stream.ts): a file several times
// the ring delivers every frame exactly once, --loops reads the file again, stdin ('-') replays,
// and damage mid-file plays every record before it and says where it was.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../host/engine/engine.js';
import { REFILL_RING_BYTES } from '../../host/engine/stream.js';
import { artefact } from '../../host/paths.js';
import { writePcap, type CaptureRecord } from '../../host/pcap/index.js';

const fixture = (name: string) => new URL(`../support/fixtures/${name}`, import.meta.url).pathname;
const cli = artefact('dist/host/cli/main.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'wwstream-refill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Ethernet / IPv4 / UDP frames of `size` bytes, frame i from source port i. */
function udpRecords(n: number, size: number): CaptureRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const d = Buffer.alloc(size, i & 0xff);
    Buffer.from('66778899aabb0011223344550800450000000001000040110000c0a80001c0a80002', 'hex').copy(d);
    d.writeUInt16BE(size - 14, 16);
    d.writeUInt16BE(i, 34);
    d.writeUInt16BE(53, 36);
    d.writeUInt16BE(size - 34, 38);
    return { linktype: 1, timestampNs: BigInt(i) * 1000n, data: new Uint8Array(d), wireLength: size, interfaceId: 0 };
  });
}

async function replay(file: string, loops = 1) {
  const engine = new Engine({ file, workers: 2, frameCount: 1024, replay: { loops }, recordsRing: 1 << 18, handler: fixture('engine-flows.mjs') });
  const ports: number[] = [];
  await engine.start();
  const reading = (async () => {
    for await (const b of engine.records()) for (const v of b.values) ports.push(v % 65536);
  })();
  const stats = await engine.done;
  await reading;
  return { stats, ports: ports.sort((a, b) => a - b), warnings: engine.warnings, problem: engine.inputProblem };
}

describe('replay through the refilled ring', () => {
  const N = 16000;
  const file = path.join(dir, 'big.pcap');
  writeFileSync(file, writePcap(udpRecords(N, 1400), { linktype: 1 }));

  it('a capture twice the ring: every frame once, none left in flight', async () => {
    expect(statSync(file).size).toBeGreaterThan(2 * REFILL_RING_BYTES);
    const { stats, ports } = await replay(file);
    expect(stats.rx_packets).toBe(N);
    expect(stats.delivered).toBe(N);
    expect(stats.in_flight).toBe(0);
    expect(stats.records_dropped).toBe(0);
    expect(ports).toEqual(Array.from({ length: N }, (_, i) => i));
  }, 120_000);

  it('--loops 3 reads the file three times', async () => {
    const { stats, ports } = await replay(file, 3);
    expect(stats.delivered).toBe(3 * N);
    expect(stats.records_dropped).toBe(0);
    expect(ports).toEqual(Array.from({ length: 3 * N }, (_, i) => Math.floor(i / 3)));
  }, 180_000);

  it('a corrupt record mid-file: the records before it play, inputProblem names file, record and offset', async () => {
    const recs = udpRecords(3000, 200);
    const bytes = writePcap(recs, { linktype: 1 });
    const at = 24 + 2500 * (16 + 200);
    new DataView(bytes.buffer).setUint32(at + 8, 0x7fffffff, true);
    const bad = path.join(dir, 'bad.pcap');
    writeFileSync(bad, bytes);
    const { stats, problem } = await replay(bad);
    expect(stats.delivered).toBe(2500);
    expect(problem).toMatch(new RegExp(`bad.pcap: record 2501: .*corrupt.*at byte ${at}\\b.*2500 record\\(s\\) before it were replayed$`));
  }, 60_000);

  it("replay - reads the capture from stdin", async () => {
    const child = promisify(execFile)(process.execPath, [cli, 'replay', '-', '--json', '--workers', '2']);
    child.child.stdin!.end(writePcap(udpRecords(5000, 300), { linktype: 1 }));
    const s = JSON.parse((await child).stdout);
    expect(s.rx_packets).toBe(5000);
    expect(s.delivered).toBe(5000);
  }, 60_000);
});
