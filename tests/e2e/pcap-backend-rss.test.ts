// Bounded memory from reader to writer: 4 GiB of capture, generated here and streamed through a
// pipe (never on disk), read by the pcap backend from stdin, every frame sent back out through the
// backend's transmit path and written by its streaming pcap writer to stdout, a pipe this test
// drains. The child's peak RSS (VmHWM) stays under 128 MB, and every frame comes out: the writer's
// blocking writes hold the backend back when this end reads slower (backpressure), nothing piles up.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { artefact } from '../../host/paths.js';
import type { CaptureRecord } from '../../host/pcap/index.js';
import { pcapBlock, pipeInto } from '../support/big-capture.js';

const dist = artefact('dist/host');

/** The child: stdin -> pcap backend -> transmit -> pcap writer -> stdout; its counters on stderr. */
const relay = `
const { openBackend } = await import('${dist}/backends/index.js');
const { pcapKernelBytes } = await import('${dist}/backends/pcap.js');
const { computeLayout, createMemory } = await import('${dist}/layout.js');
const { META } = await import('${dist}/meta.js');
const burst = 64, bufferBytes = 16384;
const layout = computeLayout({ frameCount: 16, kernelBytesPerQueue: pcapKernelBytes({ burst, bufferBytes }) });
const memory = createMemory(layout);
const b = openBackend('pcap', { file: '-', memory, layout, burst, bufferBytes, out: '-' });
const dv = new DataView(memory.buffer);
const u8 = new Uint8Array(memory.buffer);
const q = b.queues[0];
for (let n; (n = b.receive(0, burst)) > 0; ) {
  const k = b.txReserve(0, n);
  for (let i = 0; i < k; i++) {
    const m = b.rxMeta(0, i);
    const at = dv.getUint32(m + META.DATA, true);
    const len = dv.getUint32(m + META.CAPLEN, true);
    u8.copyWithin(dv.getUint32(q.txAddrs + 4 * i, true), at, at + len);
    dv.setUint32(q.txLens + 4 * i, len, true);
  }
  b.txSubmit(0, k);
  b.release(0);
}
const s = b.stats();
b.close();
process.stderr.write(JSON.stringify({ rx: s.rx, tx: s.tx, truncated: s.drops.truncated, problem: b.problem?.message }));
`;

describe('a 4 GiB capture through the pcap backend and its writer', () => {
  it('stdin -> pcap backend -> transmit -> pcap writer -> stdout: every frame out, peak RSS under 128 MB', async () => {
    const SIZE = 16000;
    const PER_BLOCK = 256;
    const recs: CaptureRecord[] = Array.from({ length: PER_BLOCK }, (_, i) => {
      const d = Buffer.alloc(SIZE, i);
      Buffer.from('66778899aabb0011223344550800', 'hex').copy(d);
      return { linktype: 1, timestampNs: BigInt(i) * 1000n, data: new Uint8Array(d), wireLength: SIZE, interfaceId: 0 };
    });
    const { header, block } = pcapBlock(recs);
    const child = spawn(process.execPath, ['--input-type=module', '-e', relay], { stdio: ['pipe', 'pipe', 'pipe'] });
    let outBytes = 0;
    let head: Buffer | undefined;
    child.stdout.on('data', (d: Buffer) => {
      head ??= d.subarray(0, 24);
      outBytes += d.length;
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const { sent, blocks, code, peakMb } = await pipeInto(child, header, block, 2 ** 32);
    const frames = blocks * PER_BLOCK;
    expect(sent).toBeGreaterThan(2 ** 32);
    expect(code).toBe(0);
    expect(JSON.parse(stderr)).toEqual({ rx: frames, tx: frames, truncated: 0 });
    // A nanosecond pcap header, then every frame whole behind its 16-byte record header.
    expect(head!.readUInt32LE(0)).toBe(0xa1b23c4d);
    expect(outBytes).toBe(24 + frames * (16 + SIZE));
    expect(peakMb).toBeGreaterThan(0);
    expect(peakMb).toBeLessThan(128);
  }, 900_000);
});
