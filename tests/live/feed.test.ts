// The feed across a veth pair in test namespaces (needs root): the feed client on the frame
// backends (afpacket, afxdp) receives from `wirewasm feed-sim` in the peer namespace, and
// feed-sim sends over the engine's transmit path to an io_uring feed client. Every message
// arrives once, the decoded stream has the simulator's digest, the gaps are exactly the packets
// the simulator skipped.
import { describe, expect, it } from 'vitest';
import { runFeedClient } from '../../host/feed/client.js';
import type { FeedSimResult } from '../../host/feed/sim.js';
import { createTestbed } from '../../host/testbed.js';
import { feedFromPeer, startSim } from '../support/feed-sim.js';

let nextPort = 27100;
const root = process.getuid?.() === 0;

describe.skipIf(!root)('feed across a veth pair (needs root)', () => {
  for (const backend of ['afpacket', 'afxdp'] as const) {
    it(`${backend} on a veth pair in test namespaces: every message once, gaps exactly where dropped (needs root)`, async () => {
      const bed = createTestbed({ prefix: 'wwfd' });
      try {
        const { feed, sim: s } = await feedFromPeer(bed, backend, nextPort++, ['--rate', '40000', '--duration', '0.5', '--drop-every', '13']);
        expect(feed.messages).toBe(s.messages_sent);
        expect(feed.digest).toBe(s.digest);
        expect(feed.gap_list).toEqual(s.gaps);
        expect(feed.duplicates + feed.malformed).toBe(0);
        expect(feed.end_of_session).toBe(1);
      } finally {
        bed.destroy();
      }
    });
  }

  for (const sender of ['afpacket', 'afxdp'] as const) {
    it(`feed-sim over ${sender} (the engine's transmit path) → feed with io_uring in the peer namespace (needs root)`, async () => {
      const bed = createTestbed({ prefix: 'wwfd' });
      try {
        const port = nextPort++;
        let sim: { done: Promise<FeedSimResult> } | null = null;
        const feed = await runFeedClient({
          backend: 'io_uring', netns: bed.b.ns, transport: 'udp', host: bed.b.ip, port, digest: true, duration: 30,
          onReady: () => (sim = startSim(['--backend', sender, '--iface', bed.a.iface, '--netns', bed.a.ns, '--transport', 'udp', '--host', bed.b.ip, '--port', String(port), '--rate', '40000', '--duration', '0.5', '--drop-every', '9'])),
        });
        const s = await sim!.done;
        expect(feed.messages).toBe(s.messages_sent);
        expect(feed.digest).toBe(s.digest);
        expect(feed.gap_list).toEqual(s.gaps);
        expect(feed.end_of_session).toBe(1);
      } finally {
        bed.destroy();
      }
    });
  }
});
