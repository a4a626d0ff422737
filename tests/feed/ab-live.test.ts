// A/B arbitration live over loopback: feed-sim --lines 2 sends one session on two UDP ports with
// independent drops; the feed client receives both (socket and io_uring). Zero gaps when one line
// has every message; otherwise gaps exactly where both lines dropped; received + gaps account for
// every sequence number sent and duplicates are exactly the second copies.
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { runFeedClient, type FeedBackendName } from '../../host/feed/client.js';
import { MOLD_HEARTBEAT, moldControl, sessionName } from '../../host/feed/generator.js';
import { runFeedSim, type FeedSimOptions, type FeedSimResult } from '../../host/feed/sim.js';
import { freeUdpPort } from '../support/ports.js';

async function ab(backend: FeedBackendName, drops: Partial<FeedSimOptions>) {
  const port = await freeUdpPort();
  const portB = await freeUdpPort();
  let sim: Promise<FeedSimResult> | null = null;
  const feed = await runFeedClient({
    backend, transport: 'udp', host: '127.0.0.1', port, lineB: { host: '127.0.0.1', port: portB }, duration: 20,
    onReady: () => (sim = runFeedSim({ transport: 'udp', host: '127.0.0.1', port, portB, lines: 2, rate: 40_000, duration: 0.5, seed: 13, ...drops })),
  });
  return { sim: await sim!, feed };
}

describe('feed: A/B line arbitration over loopback', () => {
  for (const backend of ['socket', 'io_uring'] as FeedBackendName[]) {
    it(`${backend}: line A drops every 7th packet, line B none: zero gaps, every message once`, async () => {
      const { sim, feed } = await ab(backend, { dropEvery: 7 });
      const total = sim.next_sequence - 1;
      expect(sim.lines!.a.messages_dropped).toBeGreaterThan(0);
      expect(feed.gaps).toBe(0);
      expect(feed.messages).toBe(total);
      expect(feed.lines!.a.lost).toBe(sim.lines!.a.messages_dropped);
      expect(feed.lines!.b.lost).toBe(0);
      expect(feed.duplicates).toBe(feed.lines!.a.received + feed.lines!.b.received - feed.messages);
    });

    it(`${backend}: independent drops on both lines: gaps exactly where both dropped`, async () => {
      const { sim, feed } = await ab(backend, { lineDrop: 0.08 });
      const total = sim.next_sequence - 1;
      expect(sim.gaps_total).toBeGreaterThan(0);
      expect(feed.gap_list).toEqual(sim.gaps);
      expect(feed.gaps).toBe(sim.messages_dropped);
      expect(feed.messages + feed.gaps).toBe(total);
      expect([feed.lines!.a.lost, feed.lines!.b.lost]).toEqual([sim.lines!.a.messages_dropped, sim.lines!.b.messages_dropped]);
      expect([feed.lines!.a.received, feed.lines!.b.received]).toEqual([total - sim.lines!.a.messages_dropped, total - sim.lines!.b.messages_dropped]);
      expect(feed.lines!.a.first_arrivals + feed.lines!.b.first_arrivals).toBe(feed.messages);
      expect(feed.duplicates).toBe(feed.lines!.a.received + feed.lines!.b.received - feed.messages);
    });
  }
});

describe('feed: A/B with a dead line', () => {
  it('io_uring: line B goes silent after its first datagram: line A\'s misses become gaps after lineTimeoutMs, during the session', async () => {
    const port = await freeUdpPort();
    const portB = await freeUdpPort();
    const session = 'WWDEADLINE';
    let sim: Promise<FeedSimResult> | null = null;
    let sessionOver = false;
    const during: number[] = [];
    const feed = await runFeedClient({
      backend: 'io_uring', transport: 'udp', host: '127.0.0.1', port, lineB: { host: '127.0.0.1', port: portB }, lineTimeoutMs: 100, duration: 20,
      onProgress: (s) => void (sessionOver || during.push(s.gaps)),
      onReady: () => {
        // Line B says it is at sequence 1 of the session, then never sends again: every miss of
        // line A is pending (B might bring it) until B counts as dead.
        const u = dgram.createSocket('udp4');
        u.send(moldControl(sessionName(session), 1n, MOLD_HEARTBEAT), portB, '127.0.0.1', () => u.close());
        sim = runFeedSim({ transport: 'udp', host: '127.0.0.1', port, session, rate: 20_000, duration: 2.5, seed: 13, dropEvery: 7 }).finally(() => (sessionOver = true));
      },
    });
    const s = await sim!;
    expect(s.messages_dropped).toBeGreaterThan(0);
    // Before the end of the session, the misses line B could have brought were already gaps.
    expect(during.some((g) => g > 0)).toBe(true);
    expect(feed.dead_lines).toBe(1);
    expect(feed.gap_list).toEqual(s.gaps);
    expect(feed.gaps).toBe(s.messages_dropped);
    expect(feed.messages + feed.gaps).toBe(s.next_sequence - 1);
  });
});
