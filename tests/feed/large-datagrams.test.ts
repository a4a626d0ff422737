// MoldUDP64 datagrams up to 64 KiB arrive whole: feed-sim packs ~1,000 messages per datagram
// (about 38 KB each) and sends them over loopback; the feed client receives every message once
// with the socket and the io_uring backend (nothing cut, nothing counted malformed, no gap), and
// the decoded stream has the digest of what was sent.
import { describe, expect, it } from 'vitest';
import { runFeedClient, type FeedBackendName } from '../../host/feed/client.js';
import { MAX_MESSAGES_PER_DATAGRAM, runFeedSim, type FeedSimResult } from '../../host/feed/sim.js';
import { freeUdpPort } from '../support/ports.js';

describe('feed: datagrams up to 64 KiB', () => {
  for (const backend of ['socket', 'io_uring'] as FeedBackendName[]) {
    for (const perPacket of [64, 1000, MAX_MESSAGES_PER_DATAGRAM]) {
      it(`${backend}: ${perPacket} messages per datagram arrive whole`, async () => {
        const port = await freeUdpPort();
        let sim: Promise<FeedSimResult> | null = null;
        const feed = await runFeedClient({
          backend, transport: 'udp', host: '127.0.0.1', port, digest: true, duration: 20,
          onReady: () => {
            sim = runFeedSim({ transport: 'udp', host: '127.0.0.1', port, rate: 40_000, duration: 0.5, messagesPerPacket: perPacket, seed: 5 });
          },
        });
        const s = await sim!;
        expect(s.messages_sent).toBe(20_000);
        expect({ messages: feed.messages, gaps: feed.gaps, malformed: feed.malformed, bad: feed.bad_packets, dup: feed.duplicates }).toEqual({
          messages: s.messages_sent, gaps: 0, malformed: 0, bad: 0, dup: 0,
        });
        expect(feed.digest).toBe(s.digest);
      });
    }
  }
});
