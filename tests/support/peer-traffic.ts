// The transmit tests' peer: `wirewasm gen` sending from end a of a testbed, dumpcap (Wireshark's
// capture tool, not ours) recording what arrives back at a, and the frame gen sent for a sequence
// number, to compare captured frames byte for byte.
import { spawn, type ChildProcess } from 'node:child_process';
import { UDP_HEADERS, writeUdpHeaders } from '../../host/backends/udpframe.js';
import type { Testbed } from '../../host/testbed.js';
import { artefact } from '../../host/paths.js';

/** Sends `count` 128-byte frames in 4 flows from a to b at `rate` frames/s; resolves when gen is done. */
export const sendFromPeer = (bed: Testbed, count: number, rate: number) =>
  new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [artefact('dist/host/cli/main.js'), 'gen', '--netns', bed.a.ns, '-i', bed.a.iface, '--dst-ip', bed.b.ip, '--rate', String(rate), '--size', '128', '--count', String(count), '--flows', '4'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gen exited ${code}: ${err}`))));
  });

/**
 * dumpcap on the peer. The generator sends with PACKET_QDISC_BYPASS (one TX queue), which skips the
 * taps, so only frames coming in are captured (were the generator's own seen too, every count
 * would double and fail, not pass). libpcap's `inbound` filter lost frames here: not used.
 */
export async function captureAtPeer(bed: Testbed, file: string, filter = 'udp'): Promise<{ stop: () => Promise<void> }> {
  const p: ChildProcess = bed.spawn(bed.a.ns, 'dumpcap', ['-q', '-i', bed.a.iface, '-f', filter, '-P', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    p.stderr!.on('data', (d) => {
      err += d;
      if (/Capturing on/.test(err)) resolve();
    });
    p.on('exit', (code) => reject(new Error(`dumpcap exited ${code}: ${err}`)));
  });
  return {
    // libpcap reads a TPACKET_V3 block once it is retired (dumpcap: 1 s timeout); a block not
    // yet retired when it is told to stop is not written: give it that second first.
    stop: () =>
      new Promise<void>((resolve) => setTimeout(resolve, 1500)).then(() => new Promise<void>((resolve) => {
        p.removeAllListeners('exit');
        p.on('exit', () => resolve());
        process.kill(p.pid!, 'SIGINT');
      })),
  };
}

/** What the generator sent with this sequence number (host/gen.ts), send time taken from `got`. */
export function genFrame(bed: Testbed, seq: number, got: Uint8Array): Uint8Array {
  const frame = new Uint8Array(124);
  writeUdpHeaders(frame, { srcMac: bed.a.mac, dstMac: bed.b.mac, srcIp: bed.a.ip, dstIp: bed.b.ip, srcPort: 40000 + (seq % 4), dstPort: 9000 }, frame.length - UDP_HEADERS);
  frame[40] = 0;
  frame[41] = 0;
  const dv = new DataView(frame.buffer);
  dv.setUint32(UDP_HEADERS + 4, seq);
  frame.set(got.subarray(UDP_HEADERS + 8, UDP_HEADERS + 16), UDP_HEADERS + 8);
  dv.setUint16(UDP_HEADERS + 16, 0x5757);
  return frame;
}
