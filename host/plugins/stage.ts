// The plugin stage of an engine worker: between classify/dispatch and the user's handler, run the
// plugins over the burst list, take the frames they dropped out of it (released to the pool and
// counted under the drop reason "plugin"), and hand their records on. One call per burst.
//
//   engine worker, per burst:   n = enginePoll(...)
//                               n = stage.run(burstList, n)      // the handler sees n frames
//                               burst.pluginRecords = stage.records
//                               handler(burst)
import type { EngineExports } from '../abi.js';
import type { MessagePort } from 'node:worker_threads';
import { PluginHost, type PluginRecord } from './host.js';
import type { PluginWorkerArgs } from './supervisor.js';

/** Per-worker plugin arguments the engine passes to its workers (plain data: postable). */
export interface PluginStageArgs extends PluginWorkerArgs {
  /** This worker's scratch slice (64-byte aligned); its first `maxBurst` bytes hold the verdicts. */
  scratch: { offset: number; size: number };
  maxBurst: number;
}

export interface PluginStageOptions {
  memory: WebAssembly.Memory;
  engine: EngineExports;
  worker: number;
  args: PluginStageArgs;
  /** Returns a frame the plugins dropped to the pool (the engine's frameRelease with this worker's cache). */
  release: (frame: number) => void;
  /** Address of the u64 "plugin" drop counter in this worker's stats block (this thread writes it). */
  dropCounter: number;
  /** The metadata region: burst lists hold frame indexes. */
  metaBase: number;
  /** Where records go to reach engine.records(): one {type: 'plugin-records', records} message per burst with records. */
  port?: MessagePort;
}

/** Scratch bytes per worker the engine reserves for the plugin stage. */
export const PLUGIN_SCRATCH_PER_WORKER = 512 * 1024;

export class PluginStage {
  readonly host: PluginHost;
  /** The records of the last burst. */
  records: PluginRecord[] = [];
  private readonly verdicts: number;
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly drops: BigUint64Array;

  constructor(private readonly o: PluginStageOptions) {
    const { scratch, maxBurst } = o.args;
    const verdictBytes = (maxBurst + 63) & ~63;
    this.verdicts = scratch.offset;
    this.host = new PluginHost({
      memory: o.memory,
      engine: o.engine,
      plugins: o.args.plugins,
      state: o.args.state,
      workers: o.args.workers,
      worker: o.worker,
      scratch: { offset: scratch.offset + verdictBytes, size: scratch.size - verdictBytes },
      maxBurst,
    });
    this.u8 = new Uint8Array(o.memory.buffer);
    this.u32 = new Uint32Array(o.memory.buffer);
    this.drops = new BigUint64Array(o.memory.buffer, o.dropCounter, 1);
  }

  /** Runs the plugins over `n` frame indexes at `list`; returns how many remain (dropped ones removed, in order). */
  run(list: number, n: number): number {
    const dropped = this.host.processBurst(list, n, this.verdicts, this.o.metaBase);
    this.records = this.host.takeRecords();
    if (this.records.length && this.o.port) this.o.port.postMessage({ type: 'plugin-records', records: this.records });
    if (dropped === 0) return n;
    const at = list >> 2;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const f = this.u32[at + i];
      if (this.u8[this.verdicts + i]) this.o.release(f);
      else this.u32[at + kept++] = f;
    }
    this.drops[0] += BigInt(n - kept);
    return kept;
  }

  /** Calls wirewasm_on_tick of the plugins that export it (the engine worker does, every 100 ms). */
  tick(): void {
    this.host.tick();
  }
}
