// A capture larger than memory, never on disk: a pcap header, then one block of records written
// over and over into a child's stdin (awaiting drain, so the child's pace sets ours), while the
// child's peak RSS (VmHWM in /proc) is sampled.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writePcap, type CaptureRecord } from '../../host/pcap/index.js';

/** The child's peak resident set so far, in KiB (0 once it is gone). */
export function peakKb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** A pcap of `records` cut into its file header and the block of records after it. */
export function pcapBlock(records: CaptureRecord[]): { header: Uint8Array; block: Uint8Array } {
  const file = writePcap(records, { linktype: 1 });
  return { header: file.subarray(0, 24), block: file.subarray(24) };
}

/**
 * Writes `header`, then `block` until more than `bytes` went in, then ends the child's stdin and waits
 * for it to exit: the bytes sent, the blocks, the exit code and the child's peak RSS in MB.
 */
export async function pipeInto(child: ChildProcessWithoutNullStreams, header: Uint8Array, block: Uint8Array, bytes: number): Promise<{ sent: number; blocks: number; code: number | null; peakMb: number }> {
  let peak = 0;
  const sample = () => (peak = Math.max(peak, peakKb(child.pid!)));
  const poll = setInterval(sample, 100);
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const write = (b: Uint8Array) => new Promise<void>((resolve) => (child.stdin.write(b) ? resolve() : child.stdin.once('drain', resolve)));
  const blocks = Math.ceil(bytes / block.length);
  await write(header);
  let sent = header.length;
  for (let i = 0; i < blocks; i++) {
    await write(block);
    sent += block.length;
    if (i % 64 === 0) sample();
  }
  child.stdin.end();
  const code = await exited;
  clearInterval(poll);
  return { sent, blocks, code, peakMb: peak / 1024 };
}
