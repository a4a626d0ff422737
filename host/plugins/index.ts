/**
 * Parser plugins: user WASM modules under ABI v1 (docs/plugins.md), isolated by default.
 *
 * ## How the engine uses them
 *
 * host/engine/setup.ts (config.plugins, supervisor, scratch slices), host/engine/records.ts
 * (plugin records), host/engine/stats.ts (drop reason 'plugin'), host/workers/engine-worker.ts
 * (PluginStage per burst, on_tick every 100 ms), host/capture.ts (RemotePluginHost),
 * host/cli/commands/{replay,capture}.ts (--plugin options), host/cli/display.ts (--json plugins).
 *
 * Main thread (Engine):
 * 1. `const plugins = specs.map((s) => loadPlugin(s, { engineMaxPages: layout.maximumPages }))`
 *    before starting anything: a refused plugin throws PluginRefused (message names the problem);
 *    the CLI prints `err.message` and exits non-zero.
 * 2. `const sup = new PluginSupervisor(plugins, { workers, budgetMs, onTimeout })`.
 * 3. Each worker gets `sup.workerArgs()` (plain data + WebAssembly.Modules + a SharedArrayBuffer:
 *    postable) among its args; after starting worker i call `sup.watch(i, worker)`.
 * 4. Timeouts: the supervisor terminates the worker and quarantines the plugin (`onTimeout(ev)`
 *    tells which, with the burst in flight: `ev.metaList`, `ev.count`). The engine's worker-death
 *    path does the rest: recover the burst's frames, spawn a replacement, `sup.watch(i, w)` again;
 *    the new worker's PluginHost sees the plugin quarantined in the shared state.
 * 5. `--json` stats: `"plugins": sup.stats()` (name, state, packets, records, traps, timeouts,
 *    restarts, errors, drops, bypassed, recordsLost, trapKinds).
 *
 * Layout: the engine's scratch plan (host/layout.ts planScratch) adds `workers ×
 * PLUGIN_SCRATCH_PER_WORKER` (512 KiB) when plugins are configured, and gives worker i the slice
 * `{ offset: plugins + i × PLUGIN_SCRATCH_PER_WORKER, size: PLUGIN_SCRATCH_PER_WORKER }`.
 * Drop reason: `'plugin'` appended to DROP_REASONS (its u64 slot in the worker's stats block is
 * the `dropCounter` below; only that worker thread writes it).
 *
 * Worker (engine-worker.ts), with `args.plugins: PluginStageArgs` = `{ ...sup.workerArgs(),
 * scratch: slice, maxBurst: burst }`:
 * ```ts
 * const stage = a.plugins && new PluginStage({ memory, engine: exports, worker: index, args: a.plugins,
 *   release: (f) => exports.frameRelease(ctx, cache, f), dropCounter: statsBlock + 8 * (DROPS + 7),
 *   metaBase: layout.metaBase, port });
 * // per burst, after enginePoll returned n > 0 and before the handler:
 * n = stage ? stage.run(layout.list, n) : n;   // dropped frames: out of the list, released, counted
 * // store n into WC_BURST_COUNT so that complete() delivers exactly these; burst.length = n
 * burst.pluginRecords = stage?.records;        // {plugin, kind, bytes, metadata}[] for the handler
 * // main thread: on {type: 'plugin-records', records} from a worker, queue them for
 * // engine.records() (RecordBatch.plugins)
 * stage?.tick();                               // e.g. every 100 ms: wirewasm_on_tick
 * ```
 * Lower level, PluginHost.processBurst(list, count, verdicts, metaBase) does the same without
 * touching the list: it writes one verdict byte per packet (0 pass, 1 drop).
 *
 * The engine module exports `pluginGather` (assembly/plugins.ts, re-exported by assembly/engine.ts).
 */
export * from './abi.js';
export { loadPlugin, type LoadedPlugin, type LoadOptions, type PluginRoute, type PluginSpec } from './load.js';
export { PluginRefused, validatePlugin, type PluginShape, type ValidateOptions } from './validate.js';
export { PluginHost, trapKind, type PluginHostOptions, type PluginRecord } from './host.js';
export { PluginSupervisor, type PluginStats, type PluginWorkerArgs, type SupervisorOptions, type WatchdogEvent } from './supervisor.js';
export { PluginState, TRAP_KINDS, type TrapKind } from './state.js';
export { addPluginOptions, pluginBudget, pluginSpecs, PluginOptionError, type PluginCliOptions } from './cli.js';
export { PluginStage, PLUGIN_SCRATCH_PER_WORKER, type PluginStageArgs, type PluginStageOptions } from './stage.js';
export { RemotePluginHost, type RemotePluginHostOptions } from './remote.js';
