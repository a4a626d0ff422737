// The pcap backend behind the Backend interface (host/backends/types.ts): a capture read as a NIC
// would deliver it, queue by queue, and frames sent through it written back as a pcap tshark reads.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openBackend } from '../../host/backends/index.js';
import { openPcap, pcapKernelBytes } from '../../host/backends/pcap.js';
import { computeLayout, createMemory } from '../../host/layout.js';
import { META } from '../../host/meta.js';
import { packageRoot } from '../../host/paths.js';
import { readCaptureFile, writePcap } from '../../host/pcap/index.js';
import { lacks } from '../support/tools.js';

const file = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump', 'edns-opts.pcap');

describe('pcap backend', () => {
  it('delivers every record once, dealt over the queues, bytes and metadata intact', () => {
    const layout = computeLayout({ queues: 2, frameCount: 16, kernelBytesPerQueue: pcapKernelBytes({ burst: 8 }) });
    const memory = createMemory(layout);
    const b = openBackend('pcap', { file, memory, layout, queues: 2, burst: 8 });
    const want = readCaptureFile(file).records;
    const got: { q: number; data: Uint8Array; ts: bigint; wire: number }[] = [];
    const dv = new DataView(memory.buffer);
    for (let q = 0; q < 2; q++) {
      for (let n; (n = b.receive(q, 8)) > 0; ) {
        for (let i = 0; i < n; i++) {
          const m = b.rxMeta(q, i);
          const at = dv.getUint32(m + META.DATA, true);
          got.push({ q, data: new Uint8Array(memory.buffer).slice(at, at + dv.getUint32(m + META.CAPLEN, true)), ts: dv.getBigUint64(m + META.TIMESTAMP, true), wire: dv.getUint32(m + META.WIRELEN, true) });
          expect(dv.getUint16(m + META.QUEUE, true)).toBe(q);
        }
        b.release(q);
      }
      expect(b.wait(q, 0)).toBe(false);
    }
    expect(got).toHaveLength(want.length);
    // Record i went to queue i mod 2, in order within its queue.
    const byQueue = [want.filter((_, i) => i % 2 === 0), want.filter((_, i) => i % 2 === 1)];
    for (const q of [0, 1]) {
      const mine = got.filter((g) => g.q === q);
      mine.forEach((g, i) => {
        expect(Buffer.from(g.data).equals(Buffer.from(byQueue[q][i].data))).toBe(true);
        expect(g.ts).toBe(byQueue[q][i].timestampNs);
        expect(g.wire).toBe(byQueue[q][i].wireLength);
      });
    }
    expect(b.stats().rx).toBe(want.length);
    b.close();
  });

  it.skipIf(lacks('tshark'))('writes what was sent as a pcap that tshark reads frame for frame', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wwen-'));
    try {
      const out = path.join(dir, 'sent.pcap');
      const layout = computeLayout({ frameCount: 16, kernelBytesPerQueue: pcapKernelBytes({ burst: 8 }) });
      const memory = createMemory(layout);
      const b = openBackend('pcap', { file, memory, layout, burst: 8, out });
      const frames = readCaptureFile(file).records.slice(0, 5).map((r) => r.data);
      expect(b.send(0, frames)).toBe(5);
      // And zero-copy: reserve, write in place, submit.
      const k = b.txReserve(0, 2);
      const dv = new DataView(memory.buffer);
      for (let i = 0; i < k; i++) {
        new Uint8Array(memory.buffer).set(frames[i], dv.getUint32(b.queues[0].txAddrs + 4 * i, true));
        dv.setUint32(b.queues[0].txLens + 4 * i, frames[i].length, true);
      }
      expect(b.txSubmit(0, k)).toBe(2);
      b.close();
      const lens = execFileSync('tshark', ['-r', out, '-T', 'fields', '-e', 'frame.len'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').map(Number);
      expect(lens).toEqual([...frames.map((f) => f.length), frames[0].length, frames[1].length]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('streams: a damaged file delivers every record before the damage over both queues, and names it; --loops reads the file again', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wwstream-backend-'));
    try {
      const recs = readCaptureFile(file).records.slice(0, 9);
      const bytes = writePcap(recs, { linktype: 1 });
      const at = 24 + recs.slice(0, 7).reduce((n, r) => n + 16 + r.data.length, 0);
      new DataView(bytes.buffer, bytes.byteOffset).setUint32(at + 8, 300000, true);
      const damaged = path.join(dir, 'damaged.pcap');
      writeFileSync(damaged, bytes);
      const count = (f: string, loops: number) => {
        const layout = computeLayout({ queues: 2, frameCount: 16, kernelBytesPerQueue: pcapKernelBytes({ burst: 4 }) });
        const b = openPcap({ file: f, memory: createMemory(layout), layout, queues: 2, burst: 4, loops });
        let n = 0;
        for (let q = 0; q < 2; q++) for (let k; (k = b.receive(q, 4)) > 0; b.release(q)) n += k;
        b.close();
        return { n, problem: b.problem?.message };
      };
      expect(count(damaged, 1)).toEqual({ n: 7, problem: `${damaged}: record 8: the record claims 300000 captured bytes, more than the 262144 any pcap writer produces: the file is corrupt (at byte ${at})` });
      expect(count(file, 3)).toEqual({ n: 3 * readCaptureFile(file).records.length, problem: undefined });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what is wrong with its config', () => {
    const layout = computeLayout({ frameCount: 16 });
    const memory = createMemory(layout);
    expect(() => openBackend('pcap', { memory, layout } as never)).toThrow(/give file/);
    expect(() => openBackend('pcap', { file, memory, layout })).toThrow(/kernelBytesPerQueue: pcapKernelBytes/);
    const l2 = computeLayout({ frameCount: 16, kernelBytesPerQueue: pcapKernelBytes() });
    expect(() => openBackend('pcap', { file: '/nope.pcap', memory: createMemory(l2), layout: l2 })).toThrow(/no such file/);
    const l3 = computeLayout({ queues: 2, frameCount: 16, kernelBytesPerQueue: pcapKernelBytes() });
    expect(() => openBackend('pcap', { file: '-', memory: createMemory(l3), layout: l3, queues: 2 })).toThrow(/stdin is a pipe, read once by one queue; 2 queues need a regular file/);
  });
});
