// The engine on AF_XDP transmitting what its handler forwards, zero-copy: a forwarded frame is a
// UMEM frame already, so its descriptor goes on the socket's TX ring and the frame comes back to
// the pool through the completion ring. On a real veth pair in namespaces this test makes: the
// generator sends from the peer, the engine forwards every frame back out, and dumpcap (Wireshark's
// capture tool, not ours) records what arrives at the peer. Needs root.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import { expectForwardedOnce, sendThenStop } from '../../support/delivery.js';
import { txPeer } from '../../support/peer-traffic.js';
import { expectShapedTransmit } from '../../support/tx-shaper.js';
import { lacks } from '../../support/tools.js';

const root = process.getuid?.() === 0;
const forward = new URL('../../support/fixtures/engine-forward.mjs', import.meta.url).pathname;

describe.skipIf(!root || lacks('dumpcap'))('engine backend afxdp: forward() transmits on the socket, zero-copy (needs root)', () => {
  const peer = txPeer('wwxt');
  const { send, capture, captured } = peer;

  it('every frame the handler forwards arrives at the peer unchanged, once; tx counted; every frame back in the pool at stop', async () => {
    const N = 3000;
    const file = path.join(peer.dir, 'fwd.pcap');
    const cap = await capture(file);
    const rxAt = () => JSON.parse(peer.bed.exec(peer.bed.a.ns, 'ip', ['-j', '-s', 'link', 'show', peer.bed.a.iface]))[0].stats64.rx.packets as number;
    const rx0 = rxAt();
    const e = new Engine({ backend: 'afxdp', iface: peer.bed.b.iface, netns: peer.bed.b.ns, workers: 2, handler: forward });
    await e.start();
    const s = await sendThenStop(e, () => send(N, 20000));
    await cap.stop();
    expectForwardedOnce(captured(file), N, s, e.warnings);
    expect(rxAt() - rx0).toBe(N); // the peer's kernel counted them in too
  });

  it('the transmit shaper never sends above its rate; what it held at stop is counted, every frame back in the pool', () =>
    expectShapedTransmit(peer.bed, 'afxdp', peer.dir, forward));
});
