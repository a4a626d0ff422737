// The platform's own 2-thread ceiling: an independent memory-touching loop (stride 64 B over 32 MB,
// a write and a read per step) run for `workerData` ms; posts the steps done. Two of these share
// nothing, so their combined rate over one's is what two cores here give at best.
import { parentPort, workerData } from 'node:worker_threads';
const buf = new Int32Array(8 << 20);
let ops = 0;
let i = 0;
let s = 0;
const end = performance.now() + workerData;
while (performance.now() < end) {
  for (let k = 0; k < 100000; k++) {
    i = (i + 16) & (buf.length - 1);
    buf[i] = s;
    s += buf[(i + 8) & (buf.length - 1)] ^ k;
  }
  ops += 100000;
}
parentPort.postMessage(ops + (s & 0));
