// `feed ... EXPRESSION` on the frame backends across a veth pair in test namespaces (needs root):
// feed-sim in the peer namespace sends and writes what it sent (-w); the messages the feed decodes
// are exactly those of the frames libpcap's pcap_offline_filter accepts in that capture. afpacket
// runs the BPF in the kernel (nothing rejected reaches the ring, nothing is counted); afxdp runs the
// translated WASM over each burst and counts what it rejects as filtered: received = decoded + filtered.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MessageView } from '../../host/feed/messages.js';
import { createTestbed } from '../../host/testbed.js';
import { refFiles } from '../support/libpcap-ref.js';
import { endOfSessionFrames, feedMessageSeqs, frameMessageSeqs } from '../support/feed-frames.js';
import { feedFromPeer } from '../support/feed-sim.js';

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
