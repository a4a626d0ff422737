/**
 * The pcap backend: a capture file played as if a NIC received it, behind the same Backend
 * interface as afxdp and afpacket (host/backends/types.ts), so code written against a live
 * interface runs unchanged on a file. Records are dealt round-robin over the queues; `receive`
 * copies a burst of them into the queue's buffers in the memory (layout.kernel[q], sized by
 * pcapKernelBytes) and fills their meta records, as a NIC's DMA would. Each queue reads the file
 * as a stream of its own (host/pcap/reader.ts: one bounded buffer, whatever the file's size) and
 * passes over the other queues' records, so nothing is held and --loops reads the file again;
 * a pipe (stdin, a FIFO), read once, takes one queue. Transmitted frames are written to `out` as they are sent
 * (pcap, nanosecond timestamps) through a streaming writer, whose blocking writes slow the sender
 * to the pace of whoever reads `out`.
 *
 * Damage in the capture ends the queue's input where it is, like tcpdump: every record before it
 * is delivered, and `problem` names the file, the record and its byte offset.
 *
 * The engine (host/engine/) replays captures faster with its WASM replay source, which copies straight
 * from the file's bytes into pool frames; both give each record the same meta fields.
 *
 * Per-queue region (layout.kernel[q]):
 * ```
 *  +0                state (64 B, unused by WASM)
 *  +64               rxAddrs  burst × u32     txAddrs burst × u32     txLens burst × u32
 *  meta              burst × 64 B meta records
 *  rx buffers        burst × bufferBytes
 *  tx buffers        burst × bufferBytes
 * ```
 */
import { existsSync, statSync } from 'node:fs';
import { CaptureFormatError, CaptureReader, PcapWriter } from '../pcap/index.js';
import { META, NEXT_NONE, OFFSET_NONE, VLAN_NONE } from '../meta.js';
import { BackendError, type Backend, type BackendConfig, type BackendStats, type QueueInfo } from './types.js';

export interface PcapOptions {
  /** The capture to replay (pcap or pcapng). */
  file: string;
  /** Times to play it (default 1; 0 = forever). */
  loops?: number;
  /** Bytes per receive/transmit buffer (default 2048; longer records are cut and counted as truncated). */
  bufferBytes?: number;
  /** Where transmitted frames are written as they are sent (pcap; '-' is standard output). */
  out?: string;
}

/** The pcap backend: a Backend, and the damage that ended its input if any. */
export interface PcapBackend extends Backend {
  /** The damage that ended a queue's input ("FILE: record N: ... (at byte B)"), once met. */
  readonly problem?: CaptureFormatError;
}

export type PcapConfig = BackendConfig & PcapOptions;

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Bytes per queue the layout must reserve (kernelBytesPerQueue) for these options. */
export function pcapKernelBytes(o: { burst?: number; bufferBytes?: number } = {}): number {
  const burst = o.burst ?? 64;
  const buf = o.bufferBytes ?? 2048;
  return alignUp(64 + alignUp(3 * burst * 4, 64) + burst * 64 + 2 * burst * buf, 4096);
}

interface Queue extends QueueInfo {
  meta: number;
  rxBuffers: number;
  txBuffers: number;
  reader?: CaptureReader;
  /** Records of the file read by this queue's reader in this loop (its own and the others'). */
  seen: number;
  /** This queue's records delivered in this loop. */
  delivered: number;
  loopsLeft: number;
  last: number;
  stats: Omit<BackendStats, 'queues'>;
}

export function openPcap(config: PcapConfig): PcapBackend {
  if (typeof config.file !== 'string' || config.file === '') throw new BackendError('bad-config', 'pcap: give file: the path of a pcap or pcapng capture');
  const burst = config.burst ?? 64;
  if (!Number.isInteger(burst) || burst < 1 || burst > 256) throw new BackendError('bad-config', `pcap: burst ${burst}; use 1..256`);
  const bufferBytes = config.bufferBytes ?? 2048;
  const nq = config.queues ?? config.layout.config.queues;
  const need = pcapKernelBytes({ burst, bufferBytes });
  if (config.layout.kernel.length < nq || config.layout.kernel.some((k) => k.size < need))
    throw new BackendError('memory-too-small', `pcap: each queue needs ${need} bytes of kernel region; compute the layout with kernelBytesPerQueue: pcapKernelBytes(...) (${need})`);
  const loops = config.loops ?? 1;
  const name = config.file === '-' ? 'stdin' : config.file;
  // A pipe (stdin, a FIFO) can be read only once, by one reader.
  const once = config.file === '-' || (existsSync(config.file) && !statSync(config.file).isFile());
  if (once && (nq > 1 || loops !== 1))
    throw new BackendError('bad-config', `pcap: ${name} is a pipe, read once by one queue; ${nq > 1 ? `${nq} queues` : `loops ${loops}`} need a regular file`);
  const open = () => {
    try {
      return CaptureReader.open(config.file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new BackendError('bad-config', `pcap: cannot read ${name}: ${code === 'ENOENT' ? 'no such file; check the path' : (e as Error).message}`, { cause: e });
    }
  };
  const memory = config.memory;
  const u8 = () => new Uint8Array(memory.buffer);
  const dv = () => new DataView(memory.buffer);
  let problem: CaptureFormatError | undefined;
  const queues: Queue[] = [];
  for (let q = 0; q < nq; q++) {
    const base = config.layout.kernel[q].offset;
    const addrs = base + 64;
    const meta = alignUp(addrs + 3 * burst * 4, 64);
    const rxBuffers = meta + burst * 64;
    queues.push({
      index: q,
      fd: -1,
      state: base,
      rxAddrs: addrs,
      txAddrs: addrs + burst * 4,
      txLens: addrs + 2 * burst * 4,
      txCapacity: bufferBytes,
      meta,
      rxBuffers,
      txBuffers: rxBuffers + burst * bufferBytes,
      reader: open(),
      seen: 0,
      delivered: 0,
      loopsLeft: loops === 0 ? Infinity : loops,
      last: 0,
      stats: { rx: 0, tx: 0, rxBytes: 0, txBytes: 0, drops: { truncated: 0 } },
    });
  }
  let out: PcapWriter | undefined;
  try {
    out = config.out ? PcapWriter.open(config.out, { linktype: 1, nanosecond: true }) : undefined;
  } catch (e) {
    for (const x of queues) x.reader?.close();
    throw new BackendError('bad-config', `pcap: cannot write ${config.out}: ${(e as Error).message}`, { cause: e });
  }
  let closed = false;
  const queue = (q: number) => {
    if (closed) throw new BackendError('bad-config', 'pcap: the backend is closed');
    const x = queues[q];
    if (!x) throw new RangeError(`pcap: queue ${q} does not exist (0..${nq - 1})`);
    return x;
  };
  /** The queue's next record (a view valid until its reader reads again), or undefined at its input's end. */
  const next = (x: Queue) => {
    while (x.reader) {
      let r;
      try {
        r = x.reader.next();
      } catch (e) {
        if (!(e instanceof CaptureFormatError)) throw e;
        problem ??= new CaptureFormatError(e.offset, `${name}: ${e.message.replace(/ \(at byte \d+\)$/, '')}`);
        x.loopsLeft = 0;
      }
      if (r) {
        if (x.seen++ % nq !== x.index) continue;
        x.delivered++;
        return r;
      }
      x.reader.close();
      x.reader = undefined;
      // Another loop when this one gave the queue something (an empty file loops no more).
      if (--x.loopsLeft > 0 && x.delivered > 0) {
        x.reader = open();
        x.seen = x.delivered = 0;
      }
    }
    return undefined;
  };

  const backend: PcapBackend = {
    name: 'pcap',
    mode: `pcap replay of ${name}`,
    get problem() {
      return problem;
    },
    queues,
    receive(q, max = burst) {
      const x = queue(q);
      const v = dv();
      const bytes = u8();
      let n = 0;
      while (n < Math.min(max, burst)) {
        const r = next(x);
        if (!r) break;
        const m = x.meta + n * META.BYTES;
        const data = x.rxBuffers + n * bufferBytes;
        const caplen = Math.min(r.data.length, bufferBytes);
        if (caplen < r.data.length) x.stats.drops.truncated!++;
        bytes.set(r.data.subarray(0, caplen), data);
        bytes.fill(0, m, m + META.BYTES);
        v.setUint32(m + META.DATA, data, true);
        v.setUint32(m + META.CAPLEN, caplen, true);
        v.setUint32(m + META.WIRELEN, Math.max(r.wireLength, caplen), true);
        v.setBigUint64(m + META.TIMESTAMP, r.timestampNs, true);
        for (const f of [META.L2, META.L3, META.L4, META.PAYLOAD, META.INNER_L3, META.INNER_L4]) v.setUint16(m + f, OFFSET_NONE, true);
        v.setUint16(m + META.VLAN0, VLAN_NONE, true);
        v.setUint16(m + META.VLAN1, VLAN_NONE, true);
        v.setUint16(m + META.QUEUE, q, true);
        v.setUint16(m + META.LINKTYPE, r.linktype, true);
        v.setUint32(m + META.REFCNT, 1, true);
        v.setUint32(m + META.NEXT, NEXT_NONE, true);
        v.setUint32(x.rxAddrs + n * 4, m, true);
        x.stats.rx++;
        x.stats.rxBytes += r.wireLength;
        n++;
      }
      x.last = n;
      return n;
    },
    rxMeta(q, i) {
      const x = queue(q);
      if (i < 0 || i >= x.last) throw new RangeError(`pcap: frame ${i} of a burst of ${x.last}`);
      return dv().getUint32(x.rxAddrs + i * 4, true);
    },
    release(q) {
      queue(q).last = 0;
    },
    wait(q) {
      return queue(q).reader !== undefined;
    },
    txReserve(q, n) {
      const x = queue(q);
      const k = Math.min(n, burst);
      const v = dv();
      for (let i = 0; i < k; i++) v.setUint32(x.txAddrs + i * 4, x.txBuffers + i * bufferBytes, true);
      return k;
    },
    txSubmit(q, k) {
      const x = queue(q);
      const v = dv();
      const bytes = u8();
      const now = BigInt(Date.now()) * 1_000_000n;
      for (let i = 0; i < k; i++) {
        const len = Math.min(v.getUint32(x.txLens + i * 4, true), bufferBytes);
        const at = v.getUint32(x.txAddrs + i * 4, true);
        out?.write({ linktype: 1, timestampNs: now, data: bytes.subarray(at, at + len), wireLength: len });
        x.stats.tx++;
        x.stats.txBytes += len;
      }
      return k;
    },
    send(q, frames) {
      const x = queue(q);
      const now = BigInt(Date.now()) * 1_000_000n;
      for (const f of frames) {
        out?.write({ linktype: 1, timestampNs: now, data: f, wireLength: f.length });
        x.stats.tx++;
        x.stats.txBytes += f.length;
      }
      return frames.length;
    },
    flush() {
      out?.flush();
      return true;
    },
    stats() {
      const sum: BackendStats = { rx: 0, tx: 0, rxBytes: 0, txBytes: 0, drops: { truncated: 0 }, queues: [] };
      for (const x of queues) {
        sum.rx += x.stats.rx;
        sum.tx += x.stats.tx;
        sum.rxBytes += x.stats.rxBytes;
        sum.txBytes += x.stats.txBytes;
        sum.drops.truncated! += x.stats.drops.truncated!;
        sum.queues!.push({ ...x.stats, drops: { ...x.stats.drops } });
      }
      return sum;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const x of queues) x.reader?.close();
      out?.close();
    },
  };
  return backend;
}
