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
import strftime from 'strftime';
import { fileSink, type CaptureFormat, type CaptureSink, type CaptureWriter, type WriteRecord } from './writer.js';

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
  private file!: CaptureWriter;
  private count = 0;
  private periods = 1;
  private periodStartS: number;

  constructor(
    private readonly base: string,
    private readonly format: CaptureFormat,
    private readonly o: RotationOptions = {},
    /** Where `-` (standard output) goes, if not straight to file descriptor 1: e.g. a writer that stops quietly when the reader has gone. */
    private readonly stdout?: { write(bytes: Uint8Array): void },
    private readonly nowMs: () => number = Date.now,
  ) {
    for (const [flag, v] of [['-C', o.maxBytes], ['-W', o.files], ['-G', o.rotateS]] as const)
      if (v !== undefined && !(v > 0)) throw new Error(`${flag} ${v}: give a number above 0`);
    if (o.files !== undefined && !Number.isInteger(o.files)) throw new Error(`-W ${o.files}: give a whole number of files`);
    if (o.files !== undefined && !o.maxBytes && !o.rotateS) throw new Error('-W counts rotated files: give -C (size) or -G (seconds) as well');
    if (base === '-' && (o.maxBytes || o.rotateS)) throw new Error('-C and -G rotate files: give -w a file name, not - (standard output)');
    this.periodStartS = Math.floor(this.nowMs() / 1000);
    this.open();
  }

  /** Writes `r`, rotating first if due; false when -G with -W has made its last file (stop now). */
  write(r: WriteRecord): boolean {
    const o = this.o;
    if (o.rotateS) {
      const t = Math.floor(this.nowMs() / 1000);
      if (t - this.periodStartS >= o.rotateS) {
        this.periodStartS = t;
        this.file.close();
        if (!o.maxBytes && o.files && ++this.periods > o.files) return false;
        this.count = 0;
        this.open();
      }
    }
    if (o.maxBytes && this.file.bytes > o.maxBytes) {
      this.file.close();
      this.count++;
      if (o.files && this.count >= o.files) this.count = 0;
      this.open();
    }
    this.file.write(r);
    return true;
  }

  /** Writes out what the current file has gathered, so a reader at its other end sees it now. */
  flush(): void {
    this.file.flush();
  }

  /** Writes out what is gathered and closes the current file. Idempotent. */
  close(): void {
    this.file.close();
  }

  private open(): void {
    const name = rotationFileName(this.base, this.o, this.count, new Date(this.periodStartS * 1000));
    const stdout = this.stdout;
    const sink: CaptureSink = name === '-' && stdout ? { put: (bytes) => stdout.write(bytes), close: () => undefined } : fileSink(name);
    this.file = this.format(sink);
    this.opened.push(name);
  }
}
