// Joining a MoldUDP64 session late: with --start-seq first the first sequence seen is the baseline
// (reported, no gap); with --start-seq 1 everything before it is a gap, re-requested and filled,
// so every message of the session is delivered exactly once.
import { describe, expect, it } from 'vitest';
import { runFeedClient } from '../../host/feed/client.js';
import { runFeedSim } from '../../host/feed/sim.js';
import { freeUdpPort } from '../support/ports.js';

async function joinLate(startSeq: 'first' | 1) {
  const port = await freeUdpPort();
  const rerequestPort = await freeUdpPort();
  // The simulator starts first: what it sends before the client binds is lost to the client.
  const sim = runFeedSim({ transport: 'udp', host: '127.0.0.1', port, rate: 20_000, duration: 1, seed: 9, rerequestPort, lingerMs: 3000 });
  await new Promise((r) => setTimeout(r, 300));
  const feed = await runFeedClient({ backend: 'socket', transport: 'udp', host: '127.0.0.1', port, startSeq, rerequest: { host: '127.0.0.1', port: rerequestPort }, duration: 20 });
  return { sim: await sim, feed };
}

describe('feed: session join', () => {
  it('--start-seq first: the first sequence seen is the baseline, no gap before it', async () => {
    const { sim, feed } = await joinLate('first');
    const base = feed.baseline.WIREWASM01;
    expect(base).toBeGreaterThan(1);
    expect(feed.gaps).toBe(0);
    expect(feed.messages).toBe(sim.messages_sent - (base - 1));
  });

  it('--start-seq 1: the messages before the first seen are a gap, re-requested and filled exactly once', async () => {
    const { sim, feed } = await joinLate(1);
    const base = feed.baseline.WIREWASM01;
    expect(base).toBeGreaterThan(1);
    expect(feed.gap_list[0]).toEqual([1, base - 1]);
    expect(feed.gaps).toBe(base - 1);
    expect(feed.late).toBe(base - 1);
    expect(feed.outstanding).toBe(0);
    expect(feed.duplicates).toBe(0);
    expect(feed.messages).toBe(sim.messages_sent);
  });
});
