// `feed ... EXPRESSION` on the frame backends across a veth pair in test namespaces (needs root):
// feed-sim in the peer namespace sends and writes what it sent (-w); the messages the feed decodes
// are exactly those of the frames libpcap's pcap_offline_filter accepts in that capture. afpacket
// runs the BPF in the kernel (nothing rejected reaches the ring, nothing is counted); afxdp runs the
// translated WASM over each burst and counts what it rejects as filtered: received = decoded + filtered.
// dpdk (net_af_packet PMD) runs the WASM too, the feed as its own process (`--messages` gives the
// decoded messages' sequence numbers).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MessageView } from '../../host/feed/messages.js';
import { createTestbed } from '../../host/testbed.js';
import { refFiles } from '../support/libpcap-ref.js';
import { endOfSessionFrames, feedMessageSeqs, frameMessageSeqs } from '../support/feed-frames.js';
import { cli, feedFromPeer } from '../support/feed-sim.js';
import { dpdkBuilt } from '../support/dpdk.js';
import type { FeedReport } from '../../host/feed/client.js';
import type { FeedSimResult } from '../../host/feed/sim.js';

let nextPort = 27900;
const root = process.getuid?.() === 0;
const sortBig = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

describe.skipIf(!root)('feed EXPRESSION across a veth pair (needs root)', () => {
  for (const backend of ['afpacket', 'afxdp'] as const) {
    it(`${backend}: the messages decoded are those of the frames libpcap accepts in feed-sim's capture (needs root)`, { timeout: 60_000 }, async () => {
      const bed = createTestbed({ prefix: 'wwff' });
      const dir = mkdtempSync(path.join(os.tmpdir(), 'wirewasm-feed-filter-live-'));
      const file = path.join(dir, 'sent.pcapng');
      try {
        const port = nextPort++;
        // A quarter of the packets (two messages each) by the low bits of their MoldUDP64 sequence (udp[25]); the end of
        // session (count 0xffff at udp[26:2]) kept so the feed stops at the session's end.
        const expression = `udp dst port ${port} and (udp[25] & 7 = 1 or udp[26:2] = 0xffff)`;
        const got: bigint[] = [];
        const { feed, sim } = await feedFromPeer(bed, backend, port, ['--rate', '40000', '--duration', '0.5', '--messages-per-packet', '2', '-w', file], {
          filter: expression,
          duration: 15,
          onMessages: (batch, names) => feedMessageSeqs(new MessageView(batch, names), got),
        });
        const [ref] = refFiles([expression], [file]);
        const r = ref.results.get(0)!;
        if (!('accepted' in r)) throw new Error(r.error);
        const perFrame = frameMessageSeqs(file);
        const expected = [...r.accepted.keys()].flatMap((i) => perFrame[i]).sort(sortBig);
        expect(sim.messages_sent).toBe(20_000);
        expect(expected.length).toBeGreaterThan(3000);
        expect(expected.length).toBeLessThan(sim.messages_sent / 2);
        expect(got.sort(sortBig)).toEqual(expected);
        // The feed stops at the first end of session; the copies feed-sim sends after it may come too late.
        const ends = endOfSessionFrames(file);
        const beforeEnd = [...r.accepted.keys()].filter((i) => !ends.has(i)).length + 1;
        expect(feed.packets).toBeGreaterThanOrEqual(beforeEnd);
        expect(feed.packets).toBeLessThanOrEqual(r.accepted.size);
        expect(feed.end_of_session).toBe(1);
        const rx = (feed.backend_stats as { rx: number }).rx;
        if (backend === 'afpacket') {
          expect(feed.filtered).toBe(0);
          expect(rx).toBe(feed.packets);
        } else {
          expect(feed.filtered).toBeGreaterThanOrEqual(perFrame.length - r.accepted.size);
          expect(rx).toBe(feed.packets + feed.filtered + feed.bad_packets + feed.ip_fragments);
        }
      } finally {
        bed.destroy();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

const exited = (c: import('node:child_process').ChildProcess) => new Promise<number | null>((res) => (c.exitCode !== null ? res(c.exitCode) : c.once('exit', res)));

describe.runIf(root && dpdkBuilt)('feed EXPRESSION on the dpdk backend across a veth pair (needs root)', () => {
  it('net_af_packet: the messages decoded are those of the frames libpcap accepts in feed-sim\'s capture; the rest counted filtered', async () => {
    const bed = createTestbed({ prefix: 'wwffd' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wirewasm-feed-filter-dpdk-'));
    const file = path.join(dir, 'sent.pcapng');
    const messages = path.join(dir, 'messages.jsonl');
    try {
      const port = 27950;
      const expression = `udp dst port ${port} and (udp[25] & 7 = 1 or udp[26:2] = 0xffff)`;
      let feedOut = '';
      let feedErr = '';
      const feed = bed.spawn(bed.b.ns, process.execPath, [cli, 'feed', '--json', '--backend', 'dpdk', '--dpdk-port', `net_af_packet0,iface=${bed.b.iface}`, '--transport', 'udp', '--host', bed.b.ip, '--port', String(port), '--duration', '30', '--messages', messages, ...expression.split(' ')], { stdio: ['ignore', 'pipe', 'pipe'] });
      feed.stdout!.on('data', (d) => (feedOut += d));
      feed.stderr!.on('data', (d) => (feedErr += d));
      for (const giveUp = Date.now() + 60_000; !execFileSync('ip', ['-n', bed.b.ns, 'link', 'show', bed.b.iface], { encoding: 'utf8' }).includes('PROMISC'); ) {
        if (feed.exitCode !== null || Date.now() > giveUp) throw new Error(`feed did not open the DPDK port: ${feedErr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      let simOut = '';
      const sim = bed.spawn(bed.a.ns, process.execPath, [cli, 'feed-sim', '--json', '--transport', 'udp', '--host', bed.b.ip, '--port', String(port), '--rate', '40000', '--duration', '0.5', '--messages-per-packet', '2', '-w', file], { stdio: ['ignore', 'pipe', 'inherit'] });
      sim.stdout!.on('data', (d) => (simOut += d));
      expect(await exited(sim)).toBe(0);
      expect(await exited(feed), feedErr).toBe(0);
      const s = JSON.parse(simOut) as FeedSimResult;
      const r = JSON.parse(feedOut) as FeedReport;
      const [ref] = refFiles([expression], [file]);
      const res = ref.results.get(0)!;
      if (!('accepted' in res)) throw new Error(res.error);
      const perFrame = frameMessageSeqs(file);
      const expected = [...res.accepted.keys()].flatMap((i) => perFrame[i]).sort(sortBig);
      const got = readFileSync(messages, 'utf8').trim().split('\n').filter(Boolean).map((l) => BigInt(JSON.parse(l).sequence as number)).sort(sortBig);
      expect(s.messages_sent).toBe(20_000);
      expect(expected.length).toBeGreaterThan(3000);
      const b = r.backend_stats as { rx: number; drops: { ringFull: number; queueFreezes: number; invalid: number } };
      const dropped = b.drops.ringFull + b.drops.queueFreezes + b.drops.invalid;
      // Nothing dropped on the way: then exactly libpcap's selection (else only dropped frames' messages may be missing).
      if (dropped === 0) expect(got).toEqual(expected);
      else expect(expected).toEqual(expect.arrayContaining(got));
      expect(r.filter).toBe(expression);
      // Every frame the expression rejects up to the session's end was counted filtered, or dropped
      // before the filter (the PMD's ring full; what comes after the first end of session may arrive
      // after the feed stopped).
      const firstEnd = Math.min(...endOfSessionFrames(file));
      const rejectedBefore = perFrame.slice(0, firstEnd).filter((_, i) => !res.accepted.has(i)).length;
      expect(rejectedBefore).toBeGreaterThan(5000);
      expect(r.filtered + dropped).toBeGreaterThanOrEqual(rejectedBefore);
      expect(b.rx).toBe(r.packets + r.filtered + r.bad_packets + r.ip_fragments);
      expect(r.end_of_session).toBe(1);
    } finally {
      bed.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
