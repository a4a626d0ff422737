// The worker of RemotePluginHost: builds a PluginHost over the shared memory and answers one burst
// per handshake (remote.ts explains the protocol).
import { workerData, parentPort } from 'node:worker_threads';
import { instantiateEngine } from '../wasm.js';
import { PluginHost } from './host.js';
import { CTL, type RemoteWorkerData } from './remote.js';

const d = workerData as RemoteWorkerData;
const ctl = new Int32Array(d.ctl);
const host = new PluginHost({
  memory: d.memory,
  engine: instantiateEngine(d.module, d.memory),
  plugins: d.plugins,
  state: d.state,
  workers: 1,
  worker: 0,
  scratch: d.scratch,
  maxBurst: d.maxBurst,
});
parentPort!.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(ctl, CTL.SEQ, seen);
  seen = Atomics.load(ctl, CTL.SEQ);
  if (ctl[CTL.STOP]) break;
  ctl[CTL.DROPS] = host.processBurst(ctl[CTL.LIST] >>> 0, ctl[CTL.COUNT], ctl[CTL.VERDICTS] >>> 0, ctl[CTL.META_BASE] >>> 0);
  const records = host.takeRecords();
  if (records.length) d.port.postMessage(records);
  Atomics.store(ctl, CTL.DONE, seen);
  Atomics.notify(ctl, CTL.DONE);
}
