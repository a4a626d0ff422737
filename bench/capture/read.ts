// `node dist/bench/capture/read.js FILE`: the capture read as a stream and every frame parsed, no
// output (the `wirewasm-read` row of the capture bench, run as its own process so its peak RSS is
// its own). Prints `frames bytes seconds` on one line.
import { statSync } from 'node:fs';
import { FrameParser } from '../../host/parser.js';
import { CaptureReader, type CaptureRecord } from '../../host/pcap/index.js';

const file = process.argv[2];
const t0 = performance.now();
const reader = CaptureReader.open(file);
const parser = new FrameParser();
const batch: CaptureRecord[] = [];
let frames = 0;
const flush = () => {
  frames += parser.parse(batch, () => undefined);
  batch.length = 0;
};
for (;;) {
  if (batch.length && (batch.length === parser.batch || !reader.ready())) flush();
  const r = reader.next();
  if (!r) break;
  batch.push(r);
}
if (batch.length) flush();
reader.close();
process.stdout.write(`${frames} ${statSync(file).size} ${(performance.now() - t0) / 1000}\n`);
