// Shared by the live backend suites (tests/live/backends/): an independent sender (a plain Node
// dgram socket in the peer namespace, so the frames come from the kernel's own stack, not from our
// TX code), the payload every frame must carry, and a receive loop that checks every frame's bytes.
import { expect } from 'vitest';
import { kernelAddon } from '../../host/backends/kernel.js';
import { META } from '../../host/meta.js';
import type { Backend } from '../../host/backends/types.js';
import type { Testbed } from '../../host/testbed.js';

export const MAGIC = 0x7777696f; // "wwio"
export const PORT = 9123;

/** Payload of datagram `seq`: magic, seq, then bytes that depend on seq and position. */
export function payload(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(MAGIC, 0);
  b.writeUInt32BE(seq, 4);
  for (let i = 8; i < size; i++) b[i] = (seq * 31 + i * 7) & 0xff;
  return b;
}

/** Sends `count` datagrams from `ns` to ip:port, paced in bursts; resolves when the sender exits. */
/** With `flows` > 1, datagram i goes out of socket i % flows (distinct source ports: distinct flows). */
export function sendUdp(bed: Testbed, ns: string, ip: string, count: number, size = 64, port = PORT, flows = 1): Promise<number | null> {
  // A datagram whose send fails (socket buffer full on a busy machine) is sent again, so what
  // the receiver misses is the receiver's loss, not the sender's.
  const script = `
    const dgram = require('dgram'); const socks = Array.from({ length: ${flows} }, () => dgram.createSocket('udp4'));
    const size = ${size}, count = ${count};
    ${payload.toString().replace(/: number/g, '').replace(/: Buffer/g, '')}
    const MAGIC = ${MAGIC};
    let seq = 0; const retry = [];
    function burst() {
      let pending = 0;
      for (let i = 0; i < 50 && (retry.length || seq < count); i++) {
        const s = retry.length ? retry.shift() : seq++;
        pending++;
        socks[s % socks.length].send(payload(s, size), ${port}, '${ip}', (err) => { if (err) retry.push(s); if (--pending === 0) setTimeout(next, 1); });
      }
      if (pending === 0) next();
    }
    function next() { if (seq < count || retry.length) burst(); else socks.forEach((s) => s.close()); }
    burst();`;
  const child = bed.spawn(ns, process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

export interface Received {
  seqs: Map<number, number>;
  bad: string[];
  /** Earliest and latest META.TIMESTAMP (CLOCK_REALTIME ns) of the test datagrams. */
  tsMin?: bigint;
  tsMax?: bigint;
}

/** Checks one received frame: Ethernet/IPv4/UDP to ip:port, carrying payload(seq). Returns seq, or -1 for other traffic. */
export function checkFrame(frame: Uint8Array, dstIp: string, size: number, port = PORT): number | string {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.length < 42 || v.getUint16(12) !== 0x0800 || frame[23] !== 17) return -1;
  const ihl = (frame[14] & 15) * 4;
  const udp = 14 + ihl;
  if (v.getUint16(udp + 2) !== port) return -1;
  const ip = [...frame.subarray(30, 34)].join('.');
  if (ip !== dstIp) return `destination ${ip}, expected ${dstIp}`;
  const data = frame.subarray(udp + 8);
  if (data.length < 8 || v.getUint32(udp + 8) !== MAGIC) return -1;
  const seq = v.getUint32(udp + 12);
  const want = payload(seq, size);
  if (data.length < size || Buffer.compare(Buffer.from(data.subarray(0, size)), want) !== 0) return `seq ${seq}: payload differs`;
  return seq;
}

/** Receives on queue q until `count` datagrams arrived or `ms` passed; counts each seq. */
export function receiveAll(b: Backend, memory: WebAssembly.Memory, q: number, dstIp: string, size: number, count: number, ms: number, into?: Received): Received {
  const got = into ?? { seqs: new Map<number, number>(), bad: [] };
  const end = Date.now() + ms;
  while (got.seqs.size < count && Date.now() < end) {
    if (!b.wait(q, 20)) continue;
    const n = b.receive(q);
    const dv = new DataView(memory.buffer);
    for (let i = 0; i < n; i++) {
      const m = b.rxMeta(q, i);
      const data = dv.getUint32(m + META.DATA, true);
      const caplen = dv.getUint32(m + META.CAPLEN, true);
      const r = checkFrame(new Uint8Array(memory.buffer, data, caplen), dstIp, size);
      if (typeof r === 'string') got.bad.push(r);
      else if (r >= 0) {
        got.seqs.set(r, (got.seqs.get(r) ?? 0) + 1);
        const ts = dv.getBigUint64(m + META.TIMESTAMP, true);
        if (got.tsMin === undefined || ts < got.tsMin) got.tsMin = ts;
        if (got.tsMax === undefined || ts > got.tsMax) got.tsMax = ts;
      }
    }
    b.release(q);
  }
  return got;
}

/** The property the io suites are named after: no datagram arrived damaged, and each of `count` arrived exactly once. */
export function expectEachOnce(got: Received, count: number, b: Backend): void {
  expect(got.bad).toEqual([]);
  expect(got.seqs.size, JSON.stringify(b.stats().drops)).toBe(count);
  expect([...got.seqs.values()].every((c) => c === 1)).toBe(true);
}

/**
 * Sends `count` datagrams of `size` bytes from the peer namespace to queue 0 of `b` and checks that
 * each arrives exactly once, intact, with a receive timestamp (CLOCK_REALTIME ns: the kernel's for
 * TPACKET, poll time for AF_XDP) taken while it ran.
 */
export async function expectEachDatagramOnce(bed: Testbed, b: Backend, memory: WebAssembly.Memory, count: number, size: number): Promise<void> {
  const t0 = kernelAddon().clockNs(0);
  const sent = sendUdp(bed, bed.a.ns, bed.b.ip, count, size);
  const got = receiveAll(b, memory, 0, bed.b.ip, size, count, 15000);
  const t1 = kernelAddon().clockNs(0);
  expect(got.tsMin! >= t0 && got.tsMax! <= t1).toBe(true);
  expect(await sent).toBe(0);
  expectEachOnce(got, count, b);
}
