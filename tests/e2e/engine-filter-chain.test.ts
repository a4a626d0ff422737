// The engine's filter on frames longer than a pool frame: such a frame is a chain of segments
// (frameSize 2048 here, frames up to 9000 bytes), and the translated filter reads across them,
// loads straddling two segments included, judging the whole packet as libpcap's
// pcap_offline_filter does (tests/support/libpcap-ref.c) on the same capture, frame by frame.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine, type EngineConfig } from '../../host/engine/engine.js';
import { buildFrame } from '../../host/gen/frames.js';
import { writePcap, type CaptureRecord } from '../../host/pcap/index.js';
import { expectAccounted } from '../support/delivery.js';
import { refFiles } from '../support/libpcap-ref.js';

const fixture = (name: string) => new URL(`../support/fixtures/${name}`, import.meta.url).pathname;
const dir = mkdtempSync(path.join(os.tmpdir(), 'wirewasm-filter-chain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** UDP frames of 60 to 9000 bytes whose payload bytes depend on the frame and the offset; frame i stamped i µs. */
function capture(count: number): string {
  const records: CaptureRecord[] = [];
  for (let i = 0; i < count; i++) {
    const length = i % 5 === 0 ? 60 + ((i * 37) % 1900) : 2000 + ((i * 997) % 7000);
    const f = buildFrame({ src: `10.0.${i & 0xff}.1`, dst: '10.1.0.1', sport: 1000 + i, dport: 7001, length });
    for (let k = 42; k < f.length; k++) f[k] = (i * 7 + k * 13) & 0xff;
    records.push({ linktype: 1, interfaceId: 0, data: f, wireLength: f.length, timestampNs: BigInt(i) * 1000n });
  }
  const file = path.join(dir, 'large.pcap');
  writeFileSync(file, writePcap(records, { linktype: 1, snaplen: 65535 }));
  return file;
}

async function replay(config: EngineConfig) {
  const engine = new Engine(config);
  await engine.start();
  for await (const b of engine.records()) void b;
  return engine.done;
}

// Loads past the first segment, straddling the 2048-byte boundary (2046:4, 4095:2), far in,
// past the end of most frames, and at an offset computed from the IP total length.
const EXPRESSIONS = [
  'ether[2500] & 1 = 1',
  'ether[2046:4] & 0x10000 != 0',
  'ether[4095:2] > 0x8000 or ether[6143] < 40',
  'udp[4000:2] & 0xff00 = 0x1a00 or udp[8000] = 7',
  'ether[3000] > 250 or ether[8990] > 100',
  'ip[2:2] > 3000 and ether[ip[2:2] - 10] > 128',
  'udp and ether[2047] < 100 and ether[2047] + 13 = ether[2048]',
  'greater 5000 and ether[5000:4] != 0',
];

describe('engine filter on chained frames: the frames delivered are the frames pcap_offline_filter accepts', () => {
  it(`${EXPRESSIONS.length} expressions over frames up to 9000 bytes in 2048-byte pool frames`, { timeout: 300_000 }, async () => {
    const frames = 600;
    const file = capture(frames);
    const [ref] = refFiles(EXPRESSIONS, [file]);
    expect(ref.frames).toBe(frames);
    for (let e = 0; e < EXPRESSIONS.length; e++) {
      const r = ref.results.get(e)!;
      if (!('accepted' in r)) throw new Error(`${EXPRESSIONS[e]}: ${r.error}`);
      const expected = [...r.accepted.keys()].sort((a, b) => a - b);
      expect(expected.length, EXPRESSIONS[e]).toBeGreaterThan(0);
      expect(expected.length, EXPRESSIONS[e]).toBeLessThan(frames);
      const seen = new SharedArrayBuffer(4 * frames);
      const stats = await replay({ file, filter: EXPRESSIONS[e], workers: 2, frameSize: 2048, frameCount: 1024, handler: fixture('engine-index.mjs'), handlerArgs: { seen } });
      const counts = new Uint32Array(seen);
      expect([...counts.keys()].filter((i) => counts[i]), EXPRESSIONS[e]).toEqual(expected);
      expect(stats.dropped.filtered, EXPRESSIONS[e]).toBe(frames - expected.length);
      expectAccounted(stats);
    }
  });
});
