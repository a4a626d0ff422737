// Bounded memory whatever the capture's size: 4 GiB of capture, generated here and streamed through
// a pipe (never on disk), dissected to jsonl; the process's peak RSS (VmHWM) stays under 128 MB and
// every frame comes out.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { artefact } from '../../host/paths.js';
import type { CaptureRecord } from '../../host/pcap/index.js';
import { pcapBlock, pipeInto } from '../support/big-capture.js';

const cli = artefact('dist/host/cli/main.js');

describe('a 4 GiB capture through a pipe', () => {
  it('dissect - --format jsonl: every frame out, peak RSS under 128 MB', async () => {
    const SIZE = 16384;
    const PER_BLOCK = 256;
    const recs: CaptureRecord[] = Array.from({ length: PER_BLOCK }, (_, i) => {
      const d = Buffer.alloc(SIZE, 0x5a);
      Buffer.from('66778899aabb0011223344550800450000000001000040110000c0a80001c0a80002', 'hex').copy(d);
      d.writeUInt16BE(SIZE - 14, 16);
      d.writeUInt16BE(1000 + i, 34);
      d.writeUInt16BE(53, 36);
      d.writeUInt16BE(SIZE - 34, 38);
      return { linktype: 1, timestampNs: BigInt(i) * 1000n, data: new Uint8Array(d), wireLength: SIZE, interfaceId: 0 };
    });
    const { header, block } = pcapBlock(recs);
    const child = spawn(process.execPath, [cli, 'dissect', '-', '--format', 'jsonl'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let lines = 0;
    let last = '';
    child.stdout.on('data', (d: Buffer) => {
      const s = d.toString('latin1');
      for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) lines++;
      last = (last + s).slice(-4000);
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const { sent, blocks, code, peakMb } = await pipeInto(child, header, block, 2 ** 32);
    expect(sent).toBeGreaterThan(2 ** 32);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(lines).toBe(blocks * PER_BLOCK);
    expect(JSON.parse(last.trim().split('\n').pop()!).n).toBe(blocks * PER_BLOCK);
    expect(peakMb).toBeGreaterThan(0);
    expect(peakMb).toBeLessThan(128);
  }, 900_000);
});
