// `wirewasm feed --backend dpdk` across a veth pair in test namespaces (needs root and the DPDK
// addon): the feed client receives through DPDK's net_af_packet PMD, with its mbufs in the shared
// memory, from `wirewasm feed-sim` in the peer namespace. Every message arrives once, the decoded
// stream has the simulator's digest, the gaps are exactly the packets the simulator skipped. The
// client runs as its own process: EAL starts once per process and pins its thread.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { FeedSimResult } from '../../host/feed/sim.js';
import type { FeedReport } from '../../host/feed/client.js';
import { createTestbed } from '../../host/testbed.js';
import { cli } from '../support/feed-sim.js';
import { dpdkBuilt } from '../support/dpdk.js';

const root = process.getuid?.() === 0;

const exited = (c: import('node:child_process').ChildProcess) => new Promise<number | null>((res) => (c.exitCode !== null ? res(c.exitCode) : c.once('exit', res)));

describe.runIf(root && dpdkBuilt)('feed --backend dpdk across a veth pair (needs root)', () => {
  it('net_af_packet on a veth pair in test namespaces: every message once, gaps exactly where dropped', async () => {
    const bed = createTestbed({ prefix: 'wwfdp' });
    try {
      const port = 27190;
      let feedOut = '';
      let feedErr = '';
      const feed = bed.spawn(bed.b.ns, process.execPath, [cli, 'feed', '--json', '--backend', 'dpdk', '--dpdk-port', `net_af_packet0,iface=${bed.b.iface}`, '--transport', 'udp', '--host', bed.b.ip, '--port', String(port), '--digest', '--duration', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
      feed.stdout!.on('data', (d) => (feedOut += d));
      feed.stderr!.on('data', (d) => (feedErr += d));
      // The port is open once the PMD turned promiscuous mode on (the backend enables it at open).
      for (const giveUp = Date.now() + 60_000; !execFileSync('ip', ['-n', bed.b.ns, 'link', 'show', bed.b.iface], { encoding: 'utf8' }).includes('PROMISC'); ) {
        if (feed.exitCode !== null || Date.now() > giveUp) throw new Error(`feed did not open the DPDK port: ${feedErr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      let simOut = '';
      const sim = bed.spawn(bed.a.ns, process.execPath, [cli, 'feed-sim', '--json', '--transport', 'udp', '--host', bed.b.ip, '--port', String(port), '--rate', '40000', '--duration', '0.5', '--drop-every', '13'], { stdio: ['ignore', 'pipe', 'inherit'] });
      sim.stdout!.on('data', (d) => (simOut += d));
      expect(await exited(sim)).toBe(0);
      expect(await exited(feed)).toBe(0);
      const s = JSON.parse(simOut) as FeedSimResult;
      const r = JSON.parse(feedOut) as FeedReport;
      // Exactly once or counted: a frame the PMD's kernel socket or the rx ring had no room for is
      // in the backend's drop counters; then only those frames' messages may be missing.
      const b = r.backend_stats as { drops: { ringFull: number; queueFreezes: number; invalid: number } };
      const counted = b.drops.ringFull + b.drops.queueFreezes + b.drops.invalid;
      expect(r.duplicates + r.malformed).toBe(0);
      if (counted === 0) {
        expect(r.messages).toBe(s.messages_sent);
        expect(r.digest).toBe(s.digest);
        expect(r.gap_list).toEqual(s.gaps);
      } else {
        const missing = s.messages_sent - r.messages;
        expect(missing).toBeGreaterThan(0);
        expect(missing).toBeLessThanOrEqual(counted * Math.ceil(s.messages_sent / s.packets_sent) * 2);
      }
      expect(r.end_of_session).toBe(1);
      // The port was closed at exit: nothing left on the interface.
      expect(execFileSync('ip', ['-n', bed.b.ns, 'link', 'show', bed.b.iface], { encoding: 'utf8' })).not.toContain('PROMISC');
    } finally {
      bed.destroy();
    }
  }, 120_000);
});
