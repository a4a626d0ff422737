// The engine with a DPDK port as its source, on a veth pair in namespaces this test makes: the
// net_af_packet and net_af_xdp PMDs receive into mbufs inside the engine's memory, the workers'
// handler and an echo plugin see each frame, forward() sends through the port's tx path. Traffic
// comes from `wirewasm gen` at the peer; what the engine transmits is captured there by dumpcap
// (neither shares code with us). Each scenario runs in a process of its own, inside the namespace
// (`ip netns exec`), because EAL starts once per process. Needs root.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dpdkBuilt, fnv1a, runDpdkChild } from '../../support/dpdk.js';
import { captureAtPeer, capturedGen, genFrame, sendFromPeer, txPeer } from '../../support/peer-traffic.js';
import { lacks } from '../../support/tools.js';

const root = process.getuid?.() === 0;
const child = (ns: string, options: object) => runDpdkChild('run', options, ns, 'dpdk-engine-child.mjs');

interface Seen {
  seq: number;
  caplen: number;
  wirelen: number;
  fnv: number;
  bytes: string;
}

/**
 * What close() found: every received frame came back; the mempool whole again, except on af_xdp,
 * whose PMD keeps its fill ring's 2048 mbufs (and the frames it copied sent ones into, at most its
 * 1024 tx descriptors) out of the pool at close.
 */
function expectMbufsBack(drv: string, r: { notReturned: number; inUse: number }): void {
  expect(r.notReturned).toBe(0);
  if (drv === 'af_packet') expect(r.inUse).toBe(0);
  else expect([r.inUse >= 2048, r.inUse <= 2048 + 1024]).toEqual([true, true]);
}

const xdpOn = (exec: () => string) => /prog\/xdp|xdpgeneric|xdp id/.test(exec());

describe.runIf(root && dpdkBuilt && !lacks('dumpcap')).each(['af_packet', 'af_xdp'])('engine backend dpdk: net_%s on veth (needs root)', (drv) => {
  const peer = txPeer(drv === 'af_xdp' ? 'wwdex' : 'wwdep');
  const port = () => `net_${drv}0,iface=${peer.bed.b.iface}${drv === 'af_packet' ? ',framecnt=4096' : ''}`;

  it('every frame the peer sent reaches the handler and the plugin once, bytes as sent (independent hash), or is counted a kernel drop; the books close; every mbuf back', async () => {
    const N = 2000;
    const c = child(peer.bed.b.ns, { port: port(), count: N, plugin: true, quietMs: 5000 });
    await c.waitFor('ready');
    await new Promise((r) => setTimeout(r, 200));
    await sendFromPeer(peer.bed, N, 10000);
    const r = await c.waitFor('done', 90_000);
    expect((await c.exited).code).toBe(0);
    const s = r.stats;
    const frames = r.frames as Seen[];
    const seqs = frames.map((f) => f.seq);
    expect(new Set(seqs).size).toBe(seqs.length); // never twice
    expect(seqs.every((q) => q >= 0 && q < N)).toBe(true);
    // A frame missing is one the kernel dropped on the PMD's socket, counted as such.
    expect(N - frames.length).toBeLessThanOrEqual(s.dropped.kernel);
    expect(s.dropped.kernel).toBeLessThan(N / 20);
    for (const f of frames) {
      const bytes = Buffer.from(f.bytes, 'base64');
      expect(f.caplen).toBe(124);
      expect(f.wirelen).toBe(124);
      // What the engine handed out is what the generator sent, by the test's own hash of the frame it expects.
      expect(f.fnv).toBe(fnv1a(genFrame(peer.bed, f.seq, bytes)));
    }
    // The plugin saw the same frames, with the same bytes.
    const echoed = new Map((r.echoed as { seq: number; fnv: number }[]).map((e) => [e.seq, e.fnv]));
    for (const f of frames) expect(echoed.get(f.seq)).toBe(f.fnv);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.dropped_total).toBe(s.dropped.kernel);
    expect(s.in_flight).toBe(0);
    expect(s.pool.in_use).toBe(0);
    expectMbufsBack(drv, r.closeReport);
    expect(r.warnings).toEqual([]);
    expect(xdpOn(() => peer.bed.exec(peer.bed.b.ns, 'ip', ['-d', 'link', 'show', 'dev', peer.bed.b.iface]))).toBe(false);
  }, 120_000);

  it('forward() sends through the DPDK port: each frame arrives at the peer once and unchanged; tx counted; the books close', async () => {
    const N = 1500;
    const file = path.join(peer.dir, `fwd-${drv}.pcapng`);
    const cap = await captureAtPeer(peer.bed, file, 'udp port 9000');
    const c = child(peer.bed.b.ns, { port: port(), count: N, forward: true, quietMs: 5000 });
    await c.waitFor('ready');
    await new Promise((r) => setTimeout(r, 200));
    await sendFromPeer(peer.bed, N, 10000);
    const r = await c.waitFor('done', 90_000);
    await cap.stop();
    expect((await c.exited).code).toBe(0);
    const s = r.stats;
    const got = capturedGen(peer.bed, file);
    expect(got.bad.slice(0, 3)).toEqual([]);
    expect(new Set(got.seqs).size).toBe(got.seqs.length);
    // Every frame the engine received from the generator went back out: those it kept (even ports) and the rest.
    expect(got.seqs.length).toBe(N - s.dropped.kernel);
    expect(s.tx_packets).toBe(s.delivered);
    expect(s.tx_dropped).toBe(0);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.in_flight).toBe(0);
    expect(s.pool.in_use).toBe(0);
    expectMbufsBack(drv, r.closeReport);
    expect(r.warnings).toEqual([]);
  }, 120_000);

  it('kill -9 of the engine process, then a new engine on the same interface receives (a stale XDP program is detached)', async () => {
    const first = child(peer.bed.b.ns, { port: port(), count: 1_000_000, quietMs: 600_000 });
    await first.waitFor('ready');
    process.kill(first.proc.pid!, 'SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const show = () => peer.bed.exec(peer.bed.b.ns, 'ip', ['-d', 'link', 'show', 'dev', peer.bed.b.iface]);
    if (drv === 'af_xdp') expect(xdpOn(show)).toBe(true); // what the killed run left behind
    const N = 500;
    const again = child(peer.bed.b.ns, { port: port(), count: N, quietMs: 5000 });
    await again.waitFor('ready');
    await new Promise((r) => setTimeout(r, 200));
    await sendFromPeer(peer.bed, N, 10000);
    const r = await again.waitFor('done', 90_000);
    expect((await again.exited).code).toBe(0);
    if (drv === 'af_xdp') expect(r.warnings.join('\n')).toMatch(/detached a stale XDP program/);
    expect((r.frames as Seen[]).length + r.stats.dropped.kernel).toBeGreaterThanOrEqual(N);
    expect(r.stats.rx_packets).toBe(r.stats.delivered + r.stats.dropped_total);
    expectMbufsBack(drv, r.closeReport);
    expect(xdpOn(show)).toBe(false);
  }, 120_000);
});
