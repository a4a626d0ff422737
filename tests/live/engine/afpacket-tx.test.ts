// The engine on AF_PACKET transmitting what its handler forwards: the host's poll loop copies each forwarded
// frame into the socket's TPACKET TX ring (releasing the pool frame, and with zero-copy receive its
// RX block, right after) and kicks send(). On a real veth pair in namespaces this test makes: the
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

describe.skipIf(!root || lacks('dumpcap'))('engine backend afpacket: forward() transmits on the TX ring (needs root)', () => {
  const peer = txPeer('wwpt');
  const { send, capture, captured } = peer;

  it.each([
    ['zero-copy receive', {}],
    ['copy receive', { zeroCopy: false }],
    ['a TX ring of 8 slots (full ring holds, never drops)', { txFrames: 8 }],
  ])('%s: every frame the handler forwards arrives at the peer unchanged, once; tx counted; every frame back in the pool at stop', async (name, backendOptions) => {
    const N = 3000;
    const file = path.join(peer.dir, `fwd-${name.split(' ')[0]}.pcap`);
    // Every frame from the peer's MAC coming back: exactly what the engine sent (the peer's
    // kernel also gets frames from the engine side's own kernel, from its MAC: not captured).
    const cap = await capture(file, `ether src ${peer.bed.a.mac}`);
    const e = new Engine({ backend: 'afpacket', iface: peer.bed.b.iface, netns: peer.bed.b.ns, workers: 2, backendOptions, handler: forward });
    await e.start();
    const s = await sendThenStop(e, () => send(N, 20000));
    await cap.stop();
    const got = captured(file);
    expectForwardedOnce(got, N, s, e.warnings);
    expect(s.tx_packets).toBe(N + got.other); // counted = what arrived
    expect(s.tx_bytes).toBe(got.bytes);
  });

  it('the transmit shaper never sends above its rate; what it held at stop is counted, every frame back in the pool', () =>
    expectShapedTransmit(peer.bed, 'afpacket', peer.dir, forward));
});
