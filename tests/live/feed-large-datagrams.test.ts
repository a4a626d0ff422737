// Large MoldUDP64 datagrams on the frame backends, across a veth pair in test namespaces (needs
// root), feed-sim sending from the peer namespace:
// - afpacket on an interface of MTU 65,535: datagrams up to 64 KiB arrive whole (every message once,
//   the simulator's digest, no IP fragment).
// - afxdp on an interface of MTU 3,822: the feed picks 4 KiB frames from the MTU, and datagrams
//   larger than a 2 KiB frame arrive whole; an MTU no AF_XDP frame holds is refused with the fix.
// - an MTU of 1,500 with ~30 KB datagrams: the sender's stack fragments them; the feed does not
//   reassemble IP, so it counts the fragments and each datagram's messages are a gap: received and
//   gap messages account for every message sent.
import { describe, expect, it } from 'vitest';
import { FeedError, runFeedClient, type FeedBackendName } from '../../host/feed/client.js';
import { MAX_MESSAGES_PER_DATAGRAM } from '../../host/feed/sim.js';
import type { Testbed } from '../../host/testbed.js';
import { onTestbed } from '../support/suite.js';
import { feedFromPeer } from '../support/feed-sim.js';

let nextPort = 27300;
const root = process.getuid?.() === 0;

/** feed-sim in namespace a sends `perPacket` messages a datagram to the feed client on `backend` in b. */
const session = (bed: Testbed, backend: FeedBackendName, perPacket: number) =>
  feedFromPeer(bed, backend, nextPort++, ['--rate', '40000', '--duration', '0.5', '--messages-per-packet', String(perPacket)]);

describe.skipIf(!root)('feed: large datagrams on afpacket and afxdp (needs root)', () => {
  it('afpacket, MTU 65535: datagrams of up to 64 KiB arrive whole (needs root)', async () => {
    await onTestbed({ prefix: 'wwlg', mtu: 65535 }, async (bed) => {
        const { feed, sim } = await session(bed, 'afpacket', MAX_MESSAGES_PER_DATAGRAM);
        expect({ messages: feed.messages, gaps: feed.gaps, bad: feed.bad_packets, fragments: feed.ip_fragments }).toEqual({ messages: sim.messages_sent, gaps: 0, bad: 0, fragments: 0 });
        // The datagrams really were large: ~1,259 messages of 12 to 52 bytes each, well past a jumbo frame.
        expect((feed.backend_stats as { rxBytes: number }).rxBytes / feed.packets).toBeGreaterThan(30_000);
        expect(feed.digest).toBe(sim.digest);
    });
  });

  it('afxdp, MTU 3822: 4 KiB frames chosen from the MTU, datagrams over 2 KiB arrive whole (needs root)', async () => {
    await onTestbed({ prefix: 'wwlg', mtu: 3822 }, async (bed) => {
        // 72 messages of at most 52 bytes: every datagram fits the MTU, most exceed a 2 KiB frame.
        const { feed, sim } = await session(bed, 'afxdp', 72);
        expect({ messages: feed.messages, gaps: feed.gaps, bad: feed.bad_packets, fragments: feed.ip_fragments }).toEqual({ messages: sim.messages_sent, gaps: 0, bad: 0, fragments: 0 });
        expect((feed.backend_stats as { rxBytes: number }).rxBytes / feed.packets).toBeGreaterThan(2048);
        expect(feed.digest).toBe(sim.digest);
    });
  });

  it('afxdp on an MTU no AF_XDP frame holds: refused, naming the MTU and the fix (needs root)', async () => {
    await onTestbed({ prefix: 'wwlg', mtu: 9000 }, async (bed) => {
        const run = runFeedClient({ backend: 'afxdp', iface: bed.b.iface, netns: bed.b.ns, transport: 'udp', host: bed.b.ip, port: nextPort++, duration: 1 });
        await expect(run).rejects.toThrow(FeedError);
        await expect(run).rejects.toThrow(/MTU 9000 .*mtu 3822.*--backend afpacket/);
    });
  });

  for (const backend of ['afpacket', 'afxdp'] as const) {
    it(`${backend}, MTU 1500, IP-fragmented datagrams: fragments counted, their messages gaps, none lost silently (needs root)`, async () => {
      await onTestbed({ prefix: 'wwlg' }, async (bed) => {
        const { feed, sim } = await session(bed, backend, 1000);
        const datagrams = sim.messages_sent / 1000;
        // Each ~30 KB datagram is ~21 fragments of a 1500-byte MTU.
        expect(feed.ip_fragments).toBeGreaterThanOrEqual(datagrams * 15);
        // The first fragment reaches the plugin cut short: a bad packet; its messages past the cut are a gap.
        expect(feed.bad_packets).toBe(datagrams);
        expect(feed.messages + feed.gaps).toBe(sim.messages_sent);
        expect(feed.gaps).toBeGreaterThan(0);
        expect(feed.duplicates + feed.malformed).toBe(0);
        expect(feed.end_of_session).toBe(1);
      });
    });
  }
});
