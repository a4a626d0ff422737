/**
 * Parser plugins: user WASM modules under ABI v1 (docs/plugins.md), isolated by default.
 *
 * ## Integration surface with the engine (issue 6) — agreed here, read by the engine helper
 *
 * Main thread (Engine):
 * 1. `const plugins = specs.map((s) => loadPlugin(s, { engineMaxPages: layout.maximumPages }))`
 *    before starting anything: a refused plugin throws PluginRefused (message names the problem);
 *    the CLI prints `err.message` and exits non-zero.
 * 2. `const sup = new PluginSupervisor(plugins, { workers, budgetMs, onTimeout })`.
 * 3. Each worker gets `sup.workerArgs()` (plain data + WebAssembly.Modules + a SharedArrayBuffer:
 *    postable) among its args; after starting worker i call `sup.watch(i, worker)`.
 * 4. `onTimeout(ev)`: the supervisor has already terminated worker `ev.worker` and quarantined
 *    `ev.plugin`. The engine recovers the frames of the burst in flight (`ev.metaList`, `ev.count`:
 *    the burst passed to processBurst; deliver them with the plugin's policy — the plugin is now
 *    quarantined, so the new worker's PluginHost bypasses it — or count them dropped with reason
 *    "plugin-timeout"), starts a replacement worker with the same args and calls `sup.watch(i, w)`.
 * 5. `--json` stats: `"plugins": sup.stats()` (name, state, packets, records, traps, timeouts,
 *    restarts, errors, drops, bypassed, recordsLost, trapKinds).
 *
 * Layout: the engine gives each worker its own slice of the scratch region
 * (`layout.scratch`, >= 64 KiB + 8 × maxBurst per worker; 256 KiB advised: a burst larger than the
 * slice is gathered in several rounds), 64-byte aligned.
 *
 * Worker (once per burst, after parse/classify, before dispatch):
 * ```ts
 * const host = new PluginHost({ memory, engine: exports, ...args.plugins, worker: index,
 *                               scratch: { offset, size } });
 * const drops = host.processBurst(metaList, count, verdicts); // addresses in the shared memory:
 * //   metaList: count u32 metadata-record addresses; verdicts: count bytes written 0 pass / 1 drop
 * for (const r of host.takeRecords()) ...  // {plugin, kind, bytes, metadata}: to the burst
 * //   handler and engine.records() (post them to the main thread in one message per burst)
 * host.tick();  // optional, e.g. every 100 ms: wirewasm_on_tick
 * ```
 * The engine module must export `pluginGather` (assembly/plugins.ts; on this branch, exported
 * from assembly/engine.ts).
 */
export * from './abi.js';
export { loadPlugin, type LoadedPlugin, type LoadOptions, type PluginRoute, type PluginSpec } from './load.js';
export { PluginRefused, validatePlugin, type PluginShape, type ValidateOptions } from './validate.js';
export { PluginHost, trapKind, type PluginHostOptions, type PluginRecord } from './host.js';
export { PluginSupervisor, type PluginStats, type PluginWorkerArgs, type SupervisorOptions, type WatchdogEvent } from './supervisor.js';
export { PluginState, TRAP_KINDS, type TrapKind } from './state.js';
export { addPluginOptions, pluginBudget, pluginSpecs, PluginOptionError, type PluginCliOptions } from './cli.js';
export { PluginStage, PLUGIN_SCRATCH_PER_WORKER, type PluginStageArgs, type PluginStageOptions } from './stage.js';
