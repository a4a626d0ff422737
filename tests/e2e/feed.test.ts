// Simulation tests (the origin's simple_bypass_test): `wirewasm feed-sim` runs as its own process
// and sends over loopback; the feed client receives with the socket or io_uring backend. For each
// backend and transport every message sent is received once, the decoded stream has the digest of
// what the simulator generated, the gaps are exactly the packets the simulator skipped, and both
// sides shut down cleanly (the simulator exits 0, the client releases its socket and ring).
import dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFeedClient, type FeedBackendName, type FeedReport } from '../../host/feed/client.js';
import { artefact } from '../../host/paths.js';
import type { FeedSimResult, FeedTransport } from '../../host/feed/sim.js';
import { startSim } from '../support/feed-sim.js';

let nextPort = 27100 + (process.pid % 500) * 4;

async function run(backend: FeedBackendName, transport: FeedTransport, extra: string[] = []): Promise<{ sim: FeedSimResult; feed: FeedReport }> {
  const port = nextPort++;
  const group = '239.77.8.1';
  const simArgs = ['--transport', transport, '--host', '127.0.0.1', '--port', String(port), '--rate', '40000', '--duration', '0.5', '--seed', '42', ...extra];
  if (transport === 'udp-multicast') simArgs.push('--group', group);
  let sim: { done: Promise<FeedSimResult> } | null = null;
  if (transport === 'tcp') sim = startSim(simArgs);
  const feed = runFeedClient({
    backend, transport, host: '127.0.0.1', port, group: transport === 'udp-multicast' ? group : undefined, digest: true, duration: 20,
    // io_uring joins the group on the interface named (the loopback), never on a real one.
    iface: transport === 'udp-multicast' && backend === 'io_uring' ? 'lo' : undefined,
    // UDP: the client must listen before the simulator sends. TCP: the simulator listens first.
    onReady: () => {
      if (!sim) sim = startSim(simArgs);
    },
    ...(transport === 'tcp' ? { connectRetryMs: 5000 } : {}),
  });
  const f = await feed;
  return { sim: await sim!.done, feed: f };
}

const cases: [FeedBackendName, FeedTransport][] = [
  ['socket', 'udp'], ['io_uring', 'udp'],
  ['socket', 'udp-multicast'], ['io_uring', 'udp-multicast'],
  ['socket', 'tcp'], ['io_uring', 'tcp'],
];

describe('feed over loopback: feed-sim process → feed client', () => {
  for (const [backend, transport] of cases) {
    it(`${backend} ${transport}: every message once, same decoded stream, clean shutdown`, async () => {
      const { sim, feed } = await run(backend, transport);
      expect(sim.messages_sent).toBe(20_000);
      expect(feed.messages).toBe(sim.messages_sent);
      expect(feed.digest).toBe(sim.digest);
      expect([feed.gaps, feed.duplicates, feed.malformed, feed.bad_packets]).toEqual([0, 0, 0, 0]);
      expect(feed.end_of_session).toBe(1);
      expect(feed.sessions).toEqual(['WIREWASM01']);
      expect(Object.values(feed.by_type).reduce((a, b) => a + b, 0)).toBe(sim.messages_sent);
      expect(feed.by_type).toEqual(sim.by_type);
      expect(feed.latency_ns.p50).toBeGreaterThan(0);
      expect(feed.plugins[0]).toMatchObject({ name: transport === 'tcp' ? 'soupbintcp-itch' : 'itch', state: 'running', traps: 0 });
    });
  }

  for (const backend of ['socket', 'io_uring'] as const) {
    it(`${backend} udp: gaps found exactly where the simulator dropped packets`, async () => {
      const { sim, feed } = await run(backend, 'udp', ['--drop-every', '7', '--messages-per-packet', '5']);
      expect(sim.packets_dropped).toBeGreaterThan(100);
      expect(feed.gap_list).toEqual(sim.gaps);
      expect(feed.gaps).toBe(sim.messages_dropped);
      expect(feed.gap_events).toBe(sim.packets_dropped);
      expect(feed.messages).toBe(sim.messages_sent);
      expect(feed.digest).toBe(sim.digest);
    });
  }

  for (const backend of ['socket', 'io_uring'] as const) {
    it(`${backend} udp with a MoldUDP64 re-request server: every gap asked for and filled, nothing twice`, async () => {
      const port = nextPort++;
      const rport = nextPort++;
      let sim: { done: Promise<FeedSimResult> } | null = null;
      const feed = await runFeedClient({
        backend, transport: 'udp', host: '127.0.0.1', port, duration: 20, rerequest: { host: '127.0.0.1', port: rport },
        onReady: () => (sim = startSim(['--transport', 'udp', '--port', String(port), '--rerequest-port', String(rport), '--rate', '40000', '--duration', '0.5', '--drop-every', '6'])),
      });
      const s = (await sim!.done) as FeedSimResult & { messages_retransmitted: number };
      expect(s.messages_dropped).toBeGreaterThan(2000);
      expect(feed.gaps).toBe(s.messages_dropped);
      expect(feed.rerequests).toBe(s.packets_dropped);
      expect(s.messages_retransmitted).toBe(s.messages_dropped);
      expect(feed.late).toBe(s.messages_dropped);
      expect(feed.messages).toBe(s.messages_sent + s.messages_dropped);
      expect([feed.duplicates, feed.outstanding]).toEqual([0, 0]);
    });
  }

  it('io_uring releases its socket and ring on close: the port binds again', async () => {
    const port = nextPort++;
    let sim: { done: Promise<FeedSimResult> } | null = null;
    const feed = await runFeedClient({
      backend: 'io_uring', transport: 'udp', host: '127.0.0.1', port, duration: 10,
      onReady: () => (sim = startSim(['--transport', 'udp', '--port', String(port), '--rate', '10000', '--duration', '0.2'])),
    });
    await sim!.done;
    expect(feed.messages).toBe(2000);
    // Nothing holds the port any more.
    const s = dgram.createSocket('udp4');
    await new Promise<void>((res, rej) => {
      s.once('error', rej);
      s.bind(port, '127.0.0.1', () => res());
    });
    s.close();
  });

  it('refuses bad configurations with the fix in the message', async () => {
    await expect(runFeedClient({ backend: 'efvi' as FeedBackendName, transport: 'udp', host: '127.0.0.1', port: 1 })).rejects.toThrow(/use one of socket, io_uring, afpacket, afxdp, pcap, dpdk/);
    await expect(runFeedClient({ backend: 'dpdk', transport: 'udp', host: '127.0.0.1', port: 1 })).rejects.toThrow(/needs --dpdk-port/);
    await expect(runFeedClient({ backend: 'afxdp', transport: 'udp', host: '127.0.0.1', port: 1 })).rejects.toThrow(/needs --iface/);
    await expect(runFeedClient({ backend: 'pcap', transport: 'udp', host: '127.0.0.1', port: 1 })).rejects.toThrow(/needs --file/);
    await expect(runFeedClient({ backend: 'io_uring', transport: 'udp-multicast', host: '127.0.0.1', port: 5000, group: '10.0.0.1' })).rejects.toThrow(/multicast group/);
    await expect(runFeedClient({ backend: 'socket', transport: 'tcp', host: '127.0.0.1', port: 5000, plugin: 'itch' })).rejects.toThrow(/soupbintcp-itch/);
    await expect(runFeedClient({ backend: 'io_uring', transport: 'tcp', host: '127.0.0.1', port: nextPort++ })).rejects.toThrow(/refused.*feed-sim/i);
  });
});

describe('feed from captures', () => {
  it('replaying the simulator\'s pcapng through the pcap backend gives the same decoded stream and gaps; cut short, the damage is named and feed exits 1', async () => {
    const port = nextPort++;
    const file = path.join(os.tmpdir(), `wwfeed-${process.pid}.pcapng`);
    let sim: { done: Promise<FeedSimResult> } | null = null;
    try {
      const live = await runFeedClient({
        backend: 'socket', transport: 'udp', host: '127.0.0.1', port, digest: true, duration: 20,
        onReady: () => (sim = startSim(['--transport', 'udp', '--port', String(port), '--rate', '40000', '--duration', '0.3', '--drop-every', '11', '-w', file])),
      });
      const s = await sim!.done;
      const replay = await runFeedClient({ backend: 'pcap', file, transport: 'udp', host: '127.0.0.1', port, digest: true, duration: 20 });
      expect(live.digest).toBe(s.digest);
      expect(replay.digest).toBe(s.digest);
      expect(replay.messages).toBe(s.messages_sent);
      expect(replay.gap_list).toEqual(s.gaps);
      expect(replay.end_of_session).toBe(1);
      // The capture cut inside a packet: `feed` reads the packets before the cut, names the file,
      // the record and its byte offset on one line, and exits 1, as tcpdump does.
      writeFileSync(file, readFileSync(file).subarray(0, Math.floor(statSync(file).size * 0.6)));
      const cut = spawnSync(process.execPath, [artefact('dist/host/cli/main.js'), 'feed', '--backend', 'pcap', '--file', file, '--transport', 'udp', '--port', String(port), '--json'], { encoding: 'utf8' });
      expect(cut.status).toBe(1);
      const report = JSON.parse(cut.stdout) as FeedReport;
      expect(report.messages).toBeGreaterThan(s.messages_sent / 3);
      expect(report.messages).toBeLessThan(s.messages_sent);
      expect(cut.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^wirewasm: ${file}: record \\d+: the file ends inside .* \\(at byte \\d+\\)$`))]);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
