// The engine's `filter` expression end to end: real worker threads running the translated filter
// inside their burst call, checked frame by frame against libpcap's pcap_offline_filter
// (tests/support/libpcap-ref.c) on captures made from the tcpdump corpus.
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, EngineConfigError, type EngineConfig } from '../../host/engine/engine.js';
import { buildFrame } from '../../host/gen/frames.js';
import { readCaptureFile, writePcap, type CaptureRecord } from '../../host/pcap/index.js';
import { packageRoot } from '../../host/paths.js';
import { expectAccounted, runWithOneWorkerDeath } from '../support/delivery.js';
import { refFiles } from '../support/libpcap-ref.js';

const CORPUS = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump');
const fixture = (name: string) => new URL(`../support/fixtures/${name}`, import.meta.url).pathname;

/** Every corpus frame of one link type in one pcap, frame i stamped i µs (what engine-index.mjs emits). */
function corpusCapture(linktype: number): { file: string; frames: number } {
  const records: CaptureRecord[] = [];
  for (const f of readdirSync(CORPUS).filter((x) => /\.(pcap|pcapng|cap)$/.test(x)).sort()) {
    let got: CaptureRecord[];
    try {
      got = readCaptureFile(path.join(CORPUS, f)).records;
    } catch {
      continue; // a damaged capture: the records before the damage are not worth the special case
    }
    for (const r of got) if (r.linktype === linktype) records.push({ ...r, timestampNs: BigInt(records.length) * 1000n, wireLength: Math.max(r.wireLength, r.data.length) });
  }
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'wirewasm-engine-filter-')), `linktype-${linktype}.pcap`);
  writeFileSync(file, writePcap(records, { linktype, snaplen: 262144 }));
  return { file, frames: records.length };
}

async function replay(config: EngineConfig) {
  const engine = new Engine(config);
  await engine.start();
  const values: number[] = [];
  for await (const b of engine.records()) values.push(...b.values);
  return { stats: await engine.done, values };
}

const EXPRESSIONS = ['udp port 53', 'tcp[tcpflags] & tcp-syn != 0', 'ip6 and not icmp6', 'vlan or arp', 'ip[6:2] & 0x1fff = 0 and greater 200', 'net 10.0.0.0/8 or host 192.168.1.1', 'not ip'];

describe.skipIf(!existsSync(CORPUS))('engine filter: the frames delivered are the frames pcap_offline_filter accepts', () => {
  // Ethernet, and Linux cooked capture: the expression is compiled for the capture's link type.
  for (const linktype of [1, 113]) {
    it(`link type ${linktype}: ${EXPRESSIONS.length} expressions, by frame index, the rest counted filtered`, { timeout: 300_000 }, async () => {
      const { file, frames } = corpusCapture(linktype);
      expect(frames).toBeGreaterThan(linktype === 1 ? 1000 : 20);
      const [ref] = refFiles(EXPRESSIONS, [file]);
      expect(ref.frames).toBe(frames);
      for (let e = 0; e < EXPRESSIONS.length; e++) {
        const r = ref.results.get(e)!;
        if ('error' in r) {
          // What libpcap cannot compile for this link type, the engine refuses with libpcap's words.
          await expect(new Engine({ file, filter: EXPRESSIONS[e] }).start()).rejects.toThrow(r.error.replace(/^.*: /, ''));
          continue;
        }
        const expected = [...r.accepted.keys()].sort((a, b) => a - b);
        // Frames up to the largest the corpus has in one pool frame: the filter sees the whole frame.
        const seen = new SharedArrayBuffer(4 * frames);
        const { stats } = await replay({ file, filter: EXPRESSIONS[e], workers: 2, frameSize: 65536, frameCount: 1024, handler: fixture('engine-index.mjs'), handlerArgs: { seen } });
        const counts = new Uint32Array(seen);
        expect(counts.every((c) => c <= 1), `${EXPRESSIONS[e]}: a frame delivered twice`).toBe(true);
        expect([...counts.keys()].filter((i) => counts[i]), EXPRESSIONS[e]).toEqual(expected);
        expect(stats.rx_packets).toBe(frames);
        expect(stats.dropped.filtered, EXPRESSIONS[e]).toBe(frames - expected.length);
        expect(stats.delivered).toBe(expected.length);
        expectAccounted(stats);
      }
    });
  }
});

describe('engine filter: config and accounting', () => {
  const udp = (sport: number) => buildFrame({ src: '10.0.0.1', dst: '10.1.0.1', sport, dport: 7001 });
  const tcp = (sport: number) => buildFrame({ src: '10.0.0.1', dst: '10.1.0.1', sport, dport: 7001, proto: 'tcp' });

  it('a bad expression is an error naming the expression and libpcap\'s message', async () => {
    await expect(new Engine({ frames: [udp(1)], filter: 'udp portt 7001' }).start()).rejects.toThrow(/engine config: filter: filter "udp portt 7001" \(link type EN10MB\): .*syntax error/);
  });

  it('a filter that is not a string is refused with an example', () => {
    expect(() => new Engine({ frames: [udp(1)], filter: '  ' })).toThrow(EngineConfigError);
    expect(() => new Engine({ frames: [udp(1)], filter: 7001 as unknown as string })).toThrow(/filter: got 7001; give a filter expression as tcpdump takes it/);
  });

  it('frames given in memory: exactly the rejected ones are counted filtered, with several workers and loops', async () => {
    const frames = Array.from({ length: 600 }, (_, i) => (i % 3 ? udp(1000 + (i % 50)) : tcp(2000 + (i % 50))));
    const { stats } = await replay({ frames, filter: 'udp dst port 7001', workers: 2, replay: { loops: 5 }, handler: fixture('engine-count.mjs') });
    expect(stats.rx_packets).toBe(3000);
    expect(stats.dropped.filtered).toBe(1000);
    expect(stats.delivered).toBe(2000);
    expect(stats.dropped.rule_drop).toBe(0);
    expectAccounted(stats);
  });

  it('filter and a drop rule count apart: filtered and rule_drop', async () => {
    const frames = Array.from({ length: 400 }, (_, i) => (i % 2 ? udp(1000 + (i % 4)) : tcp(3000)));
    const { stats } = await replay({ frames, filter: 'udp', rules: ['sport 1001 -> drop'], workers: 2, handler: fixture('engine-count.mjs') });
    expect(stats.dropped.filtered).toBe(200);
    expect(stats.dropped.rule_drop).toBe(100);
    expect(stats.delivered).toBe(100);
    expectAccounted(stats);
  });

  it('a worker that dies with a filter in place: every frame delivered, filtered or counted handler_error', async () => {
    const frames = Array.from({ length: 3000 }, (_, i) => (i % 4 === 0 ? tcp(4000) : udp(1000 + (i % 30))));
    frames[1001] = udp(6666);
    const { exits, lengths, stats } = await runWithOneWorkerDeath(frames, { filter: 'udp' });
    expect(exits).toHaveLength(1);
    expect(exits[0]).toMatchObject({ code: 3, restarted: true });
    expect(stats.dropped.filtered).toBe(750);
    expect(stats.dropped.handler_error).toBeGreaterThan(0);
    expect(stats.delivered).toBe(lengths.reduce((a, b) => a + b, 0));
    expect(stats.delivered + stats.dropped.handler_error + stats.dropped.filtered).toBe(3000);
    expectAccounted(stats);
  });
});
