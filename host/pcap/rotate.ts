// A capture written as it arrives, to one file or to a rotating set of files, by tcpdump(8)'s rules
// for -w, -C, -W and -G, so scripts written for tcpdump find the files they expect:
//
//   -C size   Before a record is written, a file already LARGER than `size` bytes is closed and the
//             next opened: `file`, `file1`, `file2`, ... With -W n the numbers wrap to 0 after n-1
//             and every name carries the number, zero-padded to the digits of n-1 (`-W 12`:
//             file00 .. file11; `-W 1`: no digits).
//   -G secs   A record arriving `secs` or more (whole wall-clock seconds) after the file was opened
//             starts a new file; the name is `file` put through strftime(3) at that moment (local
//             time), so `-w 'cap-%H%M%S'` names each file by its start. With -C as well, the
//             numbering restarts at 0 in each period. With -W n (and no -C) the run stops after n
//             files: write() answers false.
//
// The checks happen when a record arrives, as tcpdump's do: an idle link rotates nothing.
import { closeSync, openSync, writeSync } from 'node:fs';
import strftime from 'strftime';
import type { CaptureRecord } from './record.js';

/** Bytes of a capture file: its header, then each record's block. */
export interface CaptureEncoder {
  header(): Uint8Array;
  record(r: CaptureRecord): Uint8Array;
}

export interface RotationOptions {
  /** -C: bytes a file may exceed before the next record opens a new one. */
  maxBytes?: number;
  /** -W: files in the ring (with -C) or files in all (with -G alone). */
  files?: number;
  /** -G: seconds a file covers. */
  rotateS?: number;
}

/** The digits tcpdump pads file numbers to for `-W files`: those of files - 1. */
export const fileNumberDigits = (files: number | undefined): number => (files && files > 1 ? String(files - 1).length : 0);

/** tcpdump's file name for `-w base`: strftime'd when rotating by time, then the number if any. */
export function rotationFileName(base: string, o: RotationOptions, count: number, at: Date): string {
  const name = o.rotateS ? strftime(base, at) : base;
  const digits = o.maxBytes ? fileNumberDigits(o.files) : 0;
  return count === 0 && digits === 0 ? name : name + String(count).padStart(digits, '0');
}

export class RotatingWriter {
  /** Every file opened, in order (a name appears again when the ring wraps). */
  readonly opened: string[] = [];
  private fd = -1;
  private size = 0;
  private count = 0;
  private periods = 1;
  private periodStartS: number;

  constructor(
    private readonly base: string,
    private readonly encoder: CaptureEncoder,
    private readonly o: RotationOptions = {},
    /** Where `-` (standard output) goes: a writer that waits out a full pipe. */
    private readonly stdout?: { write(bytes: Uint8Array): void },
    private readonly nowMs: () => number = Date.now,
  ) {
    if (base === '-' && !stdout) throw new Error('-w -: give the standard output writer');
    for (const [flag, v] of [['-C', o.maxBytes], ['-W', o.files], ['-G', o.rotateS]] as const)
      if (v !== undefined && !(v > 0)) throw new Error(`${flag} ${v}: give a number above 0`);
    if (o.files !== undefined && !Number.isInteger(o.files)) throw new Error(`-W ${o.files}: give a whole number of files`);
    if (o.files !== undefined && !o.maxBytes && !o.rotateS) throw new Error('-W counts rotated files: give -C (size) or -G (seconds) as well');
    if (base === '-' && (o.maxBytes || o.rotateS)) throw new Error('-C and -G rotate files: give -w a file name, not - (standard output)');
    this.periodStartS = Math.floor(this.nowMs() / 1000);
    this.open();
  }

  /** Writes `r`, rotating first if due; false when -G with -W has made its last file (stop now). */
  write(r: CaptureRecord): boolean {
    const o = this.o;
    if (o.rotateS) {
      const t = Math.floor(this.nowMs() / 1000);
      if (t - this.periodStartS >= o.rotateS) {
        this.periodStartS = t;
        this.closeFile();
        if (!o.maxBytes && o.files && ++this.periods > o.files) return false;
        this.count = 0;
        this.open();
      }
    }
    if (o.maxBytes && this.size > o.maxBytes) {
      this.closeFile();
      this.count++;
      if (o.files && this.count >= o.files) this.count = 0;
      this.open();
    }
    this.put(this.encoder.record(r));
    return true;
  }

  close(): void {
    this.closeFile();
  }

  private open(): void {
    const name = rotationFileName(this.base, this.o, this.count, new Date(this.periodStartS * 1000));
    this.fd = this.base === '-' ? 1 : openSync(name, 'w', 0o644);
    this.opened.push(name);
    this.size = 0;
    this.put(this.encoder.header());
  }

  private put(bytes: Uint8Array): void {
    if (this.fd === 1) this.stdout!.write(bytes);
    else for (let off = 0; off < bytes.length; ) off += writeSync(this.fd, bytes, off);
    this.size += bytes.length;
  }

  private closeFile(): void {
    if (this.fd > 1) closeSync(this.fd);
    this.fd = -1;
  }
}
