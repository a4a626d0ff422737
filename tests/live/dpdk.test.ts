// The DPDK backend on a veth pair, as root: net_af_packet and net_af_xdp ports inside a namespace
// (the port runs in a child process started with `ip netns exec`, which is also how EAL gets a
// fresh process). Traffic comes from `wirewasm gen` at the peer; what we transmit is captured at
// the peer by dumpcap and read back with tshark (neither shares code with us).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestbed, type Testbed } from '../../host/testbed.js';
import { UDP_HEADERS, writeUdpHeaders } from '../../host/backends/udpframe.js';
import { artefact } from '../../host/paths.js';
import { captureAtPeer, genFrame, sendFromPeer } from '../support/peer-traffic.js';
import { dpdkBuilt, fnv1a, runDpdkChild } from '../support/dpdk.js';

const root = process.getuid?.() === 0;
const dir = mkdtempSync(path.join(tmpdir(), 'wwdp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `wirewasm gen` from the peer with frames of `size` bytes on the wire (with FCS). */
const genSized = (bed: Testbed, count: number, rate: number, size: number) =>
  new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [artefact('dist/host/cli/main.js'), 'gen', '--netns', bed.a.ns, '-i', bed.a.iface, '--dst-ip', bed.b.ip, '--rate', String(rate), '--size', String(size), '--count', String(count), '--flows', '4'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gen exited ${code}: ${err}`))));
  });

/** A 128-byte UDP frame from b to a, port 9001, that the child numbers (seq at payload + 4). */
function txFrame(bed: Testbed): string {
  const f = new Uint8Array(128);
  writeUdpHeaders(f, { srcMac: bed.b.mac, dstMac: bed.a.mac, srcIp: bed.b.ip, dstIp: bed.a.ip, srcPort: 40000, dstPort: 9001 }, f.length - UDP_HEADERS);
  f[40] = f[41] = 0; // no UDP checksum: the child rewrites the sequence number
  return Buffer.from(f).toString('base64');
}

/** Sequence numbers 0..n-1 missing, and those seen more than once: both empty for exactly-once. */
const seqsOnce = (seqs: number[], n: number) => {
  const count = new Map<number, number>();
  for (const s of seqs) count.set(s, (count.get(s) ?? 0) + 1);
  return {
    missing: Array.from({ length: n }, (_, i) => i).filter((i) => !count.has(i)),
    twice: [...count].filter(([s, c]) => c > 1 || s >= n).map(([s]) => s),
  };
};
const ONCE = { missing: [], twice: [] };

const xdpOn = (bed: Testbed) => /prog\/xdp|xdpgeneric|xdp id/.test(bed.exec(bed.b.ns, 'ip', ['-d', 'link', 'show', 'dev', bed.b.iface]));

describe.runIf(root && dpdkBuilt).each(['af_packet', 'af_xdp'])('dpdk net_%s on veth', (drv) => {
  it('delivers every frame exactly once or counts it as a kernel drop (128 B and MTU-size), bytes checked from WebAssembly, and transmits to the peer', async () => {
    const bed = createTestbed({ prefix: 'wwdp' });
    try {
      const small = 2000, big = 300, tx = 300;
      // af_packet: a 8 MB kernel ring (the PMD's default 512 frames last 25 ms at this rate).
      const port = `net_${drv}0,iface=${bed.b.iface}${drv === 'af_packet' ? ',framecnt=4096' : ''}`;
      const child = runDpdkChild('veth', { port, count: small + big, tx: { frame: txFrame(bed), count: tx } }, bed.b.ns);
      await child.waitFor('ready');
      const file = path.join(dir, `tx-${drv}.pcapng`);
      const cap = await captureAtPeer(bed, file, 'udp port 9001');
      await sendFromPeer(bed, small, 10000);
      await genSized(bed, big, 5000, 1518);
      const rx = await child.waitFor('rx');
      const t = await child.waitFor('tx');
      await cap.stop();
      expect((await child.exited).code).toBe(0);

      const frames = rx.frames as { seq: number; caplen: number; wirelen: number; fnv: number; bytes: string }[];
      const s = frames.filter((f) => f.caplen === 124);
      const m = frames.filter((f) => f.caplen === 1514);
      expect(s.length + m.length).toBe(frames.length);
      // Never twice; a frame missing is one the kernel counted as dropped on the PMD's socket (a
      // busy machine can starve the poll thread for longer than the kernel ring lasts).
      const so = seqsOnce(s.map((f) => f.seq), small), mo = seqsOnce(m.map((f) => f.seq), big);
      expect([so.twice, mo.twice]).toEqual([[], []]);
      expect(so.missing.length + mo.missing.length).toBe(rx.stats.kernelDrops);
      expect(rx.stats.kernelDrops).toBeLessThan((small + big) / 20);
      for (const f of frames) {
        const bytes = Buffer.from(f.bytes, 'base64');
        expect(f.wirelen).toBe(f.caplen);
        // What WebAssembly read at meta.data is what the peer sent.
        expect(f.fnv).toBe(fnv1a(bytes));
        if (f.caplen === 124) expect(bytes.equals(Buffer.from(genFrame(bed, f.seq, bytes)))).toBe(true);
      }
      expect(rx.stats.ringFull).toBe(0);
      expect(rx.stats.badReturns).toBe(0);

      expect(t.sent).toBe(tx);
      expect(t.done).toBe(tx);
      const payloads = execFileSync('tshark', ['-r', file, '-Y', 'udp.dstport == 9001', '-T', 'fields', '-e', 'data.data'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      const seqs = payloads.map((h) => parseInt(h.replace(/:/g, '').slice(8, 16), 16));
      expect(seqsOnce(seqs, tx)).toEqual(ONCE);
    } finally {
      bed.destroy();
    }
  }, 180_000);

  it('starts again after the previous run was killed with SIGKILL (a stale XDP program is detached)', async () => {
    const bed = createTestbed({ prefix: 'wwdp' });
    try {
      const port = `net_${drv}0,iface=${bed.b.iface}`;
      const first = runDpdkChild('veth', { port, count: 0, hang: true }, bed.b.ns);
      await first.waitFor('hanging');
      process.kill(first.proc.pid!, 'SIGKILL');
      const gone = await first.exited;
      expect(gone.signal).toBe('SIGKILL');
      if (drv === 'af_xdp') expect(xdpOn(bed)).toBe(true); // what a killed run leaves behind
      const again = runDpdkChild('veth', { port, count: 500 }, bed.b.ns);
      const ready = await again.waitFor('ready');
      if (drv === 'af_xdp') expect(ready.warning).toMatch(/detached a stale XDP program/);
      await sendFromPeer(bed, 500, 10000);
      const rx = await again.waitFor('rx');
      expect(seqsOnce(rx.frames.map((f: { seq: number }) => f.seq), 500)).toEqual(ONCE);
      expect((await again.exited).code).toBe(0);
      // A clean exit leaves nothing on the interface.
      expect(xdpOn(bed)).toBe(false);
    } finally {
      bed.destroy();
    }
  }, 180_000);

  it.each(['SIGTERM', 'SIGINT', 'process.exit'])('closes the port on %s: nothing is left on the interface', async (how) => {
    const bed = createTestbed({ prefix: 'wwdp' });
    try {
      const port = `net_${drv}0,iface=${bed.b.iface}`;
      const child = runDpdkChild('veth', { port, count: 0, hang: how !== 'process.exit', exit: how === 'process.exit' }, bed.b.ns);
      await child.waitFor('ready');
      if (drv === 'af_xdp') expect(xdpOn(bed)).toBe(true);
      if (how !== 'process.exit') {
        await child.waitFor('hanging');
        process.kill(child.proc.pid!, how as NodeJS.Signals);
      }
      const end = await child.exited;
      expect(end.events.some((e) => e.event === 'closed')).toBe(false); // finish() never ran
      expect(xdpOn(bed)).toBe(false);
      expect(bed.exec(bed.b.ns, 'ip', ['link', 'show', 'dev', bed.b.iface])).not.toMatch(/PROMISC/);
    } finally {
      bed.destroy();
    }
  }, 60_000);
});
