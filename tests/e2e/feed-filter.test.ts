// `wirewasm feed ... EXPRESSION` on a capture of real feed-sim traffic (pcap backend): the frames
// the feed decodes are exactly those libpcap's pcap_offline_filter accepts (tests/support/libpcap-ref.c),
// told apart by the MoldUDP64 sequence numbers they carry; every frame received is decoded or
// counted filtered. The socket and io_uring backends, which receive no frames, refuse an expression.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedError, runFeedClient } from '../../host/feed/client.js';
import { MessageView } from '../../host/feed/messages.js';
import type { FeedSimResult } from '../../host/feed/sim.js';
import { readCaptureFile } from '../../host/pcap/index.js';
import { refFiles } from '../support/libpcap-ref.js';
import { feedMessageSeqs, frameMessageSeqs } from '../support/feed-frames.js';
import { cli, startSim } from '../support/feed-sim.js';
import { freeUdpPort } from '../support/ports.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'wirewasm-feed-filter-'));
const file = path.join(dir, 'feed.pcapng');

// Payload bytes (the MoldUDP64 sequence's low byte is udp[25]), lengths, IP header fields and
// expressions that accept everything or nothing.
const expressions = (port: number) => [
  `udp port ${port}`,
  'udp[25] & 3 != 0',
  `udp dst port ${port} and udp[25] & 1 = 0`,
  'greater 120',
  'less 70',
  'ip[5] & 7 = 1 or udp[27] = 0',
  'tcp',
  'not udp',
];

let port: number;
let sim: FeedSimResult;
let frames: number;

beforeAll(async () => {
  port = await freeUdpPort();
  let s: { done: Promise<FeedSimResult> } | null = null;
  await runFeedClient({
    backend: 'socket', transport: 'udp', host: '127.0.0.1', port, duration: 20,
    onReady: () => (s = startSim(['--transport', 'udp', '--port', String(port), '--rate', '40000', '--duration', '0.3', '--messages-per-packet', '3', '--seed', '7', '-w', file])),
  });
  sim = await s!.done;
  frames = readCaptureFile(file).records.length;
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('feed EXPRESSION on the pcap backend: the frames decoded are the frames libpcap accepts', () => {
  it(`8 expressions over feed-sim's capture, by MoldUDP64 sequence; received = decoded + filtered`, { timeout: 120_000 }, async () => {
    const EXPRESSIONS = expressions(port);
    expect(EXPRESSIONS).toHaveLength(8);
    expect(frames).toBeGreaterThan(1000);
    const [ref] = refFiles(EXPRESSIONS, [file]);
    expect(ref.frames).toBe(frames);
    const perFrame = frameMessageSeqs(file);
    for (let e = 0; e < EXPRESSIONS.length; e++) {
      const r = ref.results.get(e)!;
      if (!('accepted' in r)) throw new Error(`libpcap did not compile ${EXPRESSIONS[e]}: ${r.error}`);
      const expected = new Set<bigint>();
      for (const i of r.accepted.keys()) for (const q of perFrame[i]) expected.add(q);
      const got: bigint[] = [];
      const feed = await runFeedClient({
        backend: 'pcap', file, transport: 'udp', host: '127.0.0.1', port, duration: 20, filter: EXPRESSIONS[e],
        onMessages: (batch, names) => feedMessageSeqs(new MessageView(batch, names), got),
      });
      expect(got.length, `${EXPRESSIONS[e]}: a message decoded twice`).toBe(new Set(got).size);
      expect(got.sort((a, b) => (a < b ? -1 : 1)), EXPRESSIONS[e]).toEqual([...expected].sort((a, b) => (a < b ? -1 : 1)));
      expect(feed.filter).toBe(EXPRESSIONS[e]);
      expect(feed.filtered, EXPRESSIONS[e]).toBe(frames - r.accepted.size);
      expect(feed.packets, EXPRESSIONS[e]).toBe(r.accepted.size);
      expect((feed.backend_stats as { rx: number }).rx).toBe(frames);
      expect(feed.packets + feed.filtered + feed.bad_packets + feed.ip_fragments).toBe(frames);
    }
    // The expression that lets everything through decodes the whole session.
    expect(sim.messages_sent).toBe(perFrame.reduce((a, s) => a + s.length, 0));
  });

  it('-F FILE and the trailing words on the command line; `filtered` in the JSON', () => {
    const expr = path.join(dir, 'expr');
    writeFileSync(expr, '# odd sequence numbers only\nudp[25] & 1 = 1\n');
    const run = (args: string[]) => spawnSync(process.execPath, [cli, 'feed', '--backend', 'pcap', '--file', file, '--transport', 'udp', '--port', String(port), '--json', ...args], { encoding: 'utf8' });
    const words = run(['udp[25]', '&', '1', '=', '1']);
    const fromFile = run(['-F', expr]);
    expect(words.status, words.stderr).toBe(0);
    expect(fromFile.status, fromFile.stderr).toBe(0);
    const [a, b] = [JSON.parse(words.stdout), JSON.parse(fromFile.stdout)];
    const [ref] = refFiles(['udp[25] & 1 = 1'], [file]);
    const accepted = (ref.results.get(0) as { accepted: Map<number, number> }).accepted.size;
    for (const r of [a, b]) {
      expect(r.filter).toBe('udp[25] & 1 = 1');
      expect(r.filtered).toBe(frames - accepted);
      expect(r.packets).toBe(accepted);
    }
  });

  it('a bad expression is refused with libpcap\'s message, before anything is decoded', async () => {
    await expect(runFeedClient({ backend: 'pcap', file, transport: 'udp', host: '127.0.0.1', port, filter: 'udp portt 1' })).rejects.toThrow(/filter "udp portt 1" \(link type EN10MB\): .*syntax error/);
    const r = spawnSync(process.execPath, [cli, 'feed', '--backend', 'pcap', '--file', file, '--transport', 'udp', '--port', String(port), 'udp', 'portt', '1'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^wirewasm: filter "udp portt 1" \(link type EN10MB\): .*syntax error/)]);
  });

  it('a burst larger than the filter judges in one call is refused at start, naming the limit', async () => {
    await expect(runFeedClient({ backend: 'pcap', file, transport: 'udp', host: '127.0.0.1', port, filter: 'udp', burst: 512 })).rejects.toThrow(
      new FeedError('burst 512 with a filter expression: the filter judges 256 frames a call at most; use a burst of 256 or less'),
    );
  });

  it('socket and io_uring receive datagrams, not frames: an expression is refused in one line naming the backends that take one', async () => {
    for (const backend of ['socket', 'io_uring'] as const) {
      await expect(runFeedClient({ backend, transport: 'udp', host: '127.0.0.1', port, filter: 'udp' })).rejects.toThrow(FeedError);
      const r = spawnSync(process.execPath, [cli, 'feed', '--backend', backend, '--transport', 'udp', '--port', String(port), 'udp'], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([`wirewasm: filter "udp": --backend ${backend} receives UDP datagrams from a socket, with no frames to filter; a filter expression takes --backend afpacket, afxdp, dpdk, pcap (e.g. --backend afpacket --iface IF), or give no expression`]);
    }
  });
});
