// The transmit tests' peer: `wirewasm gen` sending from end a of a testbed, dumpcap (Wireshark's
// capture tool, not ours) recording what arrives back at a, and the frame gen sent for a sequence
// number, to compare captured frames byte for byte.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { UDP_HEADERS, writeUdpHeaders } from '../../host/backends/udpframe.js';
import { createTestbed, type Testbed } from '../../host/testbed.js';
import { artefact } from '../../host/paths.js';
import { readCaptureFile } from '../../host/pcap/index.js';

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

/** What the generator sent with this sequence number (host/gen/), send time taken from `got`. */
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

/**
 * The generator's frames in a capture at the peer: their sequence numbers where the frame is
 * byte for byte what gen sent, the hex of any that is not, frames that are not UDP over IPv4 (the
 * peer's IPv6 neighbour discovery, forwarded back) counted apart, and every record's time.
 */
export function capturedGen(bed: Testbed, file: string) {
  const { records } = readCaptureFile(file);
  const seqs: number[] = [];
  const bad: string[] = [];
  let other = 0;
  let bytes = 0;
  for (const r of records) {
    const b = r.data;
    bytes += b.length;
    if (b.length < 34 || b[12] !== 0x08 || b[13] !== 0x00 || b[23] !== 17) {
      other++;
      continue;
    }
    const seq = new DataView(b.buffer, b.byteOffset).getUint32(UDP_HEADERS + 4);
    if (b.length === 124 && Buffer.compare(Buffer.from(b), Buffer.from(genFrame(bed, seq, b))) === 0) seqs.push(seq);
    else bad.push(Buffer.from(b).toString('hex'));
  }
  return { seqs, bad, other, bytes, times: records.map((r) => Number(r.timestampNs)) };
}

/** A transmit test's peer: its testbed and scratch folder (made before the describe block's tests, removed after), and the helpers above bound to it. */
export interface TxPeer {
  readonly bed: Testbed;
  readonly dir: string;
  send(count: number, rate: number): Promise<unknown>;
  capture(file: string, filter?: string): Promise<{ stop: () => Promise<void> }>;
  captured(file: string): ReturnType<typeof capturedGen>;
}

/** Call inside a describe block: its beforeAll/afterAll make and remove the testbed (`prefix`, unique per suite). */
export function txPeer(prefix: string): TxPeer {
  let bed: Testbed | undefined;
  let dir = '';
  beforeAll(() => {
    bed = createTestbed({ prefix });
    dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
  });
  afterAll(() => {
    bed?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get bed() {
      return bed!;
    },
    get dir() {
      return dir;
    },
    send: (count, rate) => sendFromPeer(bed!, count, rate),
    capture: (file, filter) => captureAtPeer(bed!, file, filter),
    captured: (file) => capturedGen(bed!, file),
  };
}
