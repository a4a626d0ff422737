// Output written synchronously to a file descriptor, so a command that prints as it reads holds at
// most one batch of text: the write returns when the bytes are out (a pipe's reader sets the pace,
// which is the backpressure), and a reader gone (EPIPE) ends the command where it stands.
import { writeSync } from 'node:fs';

/** The output's reader has gone (EPIPE): stop producing. */
export class OutputClosed extends Error {}

const sleep = new Int32Array(new SharedArrayBuffer(4));

export class SyncOutput {
  constructor(private readonly fd: number) {}

  write(text: string | Uint8Array): void {
    if (text.length === 0) return;
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    for (let off = 0; off < bytes.length; ) {
      try {
        off += writeSync(this.fd, bytes, off, bytes.length - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') throw new OutputClosed('output closed');
        // A descriptor handed over non-blocking: wait for room as a blocking write would.
        if (code !== 'EAGAIN') throw e;
        Atomics.wait(sleep, 0, 0, 1);
      }
    }
  }
}
