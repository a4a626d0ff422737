// Live capture to pcapng: frames from an AF_XDP or AF_PACKET backend, parsed and matched against
// flow-director rules in WASM (a `drop` rule filters, a `mark` is kept in the packet comment-free
// record order), then written as pcapng with one interface block (link type, nanosecond
// timestamp resolution) that tshark and Wireshark read, as the frames arrive (a streaming writer:
// bounded memory however long the capture runs).
import { openBackend, kernelBytesFor, type Backend, type BackendName } from './backends/index.js';
import { computeLayout, createMemory, writeControlBlock } from './layout.js';
import { META } from './meta.js';
import { PcapngWriter, type CaptureRecord } from './pcap/index.js';
import { compileEngine, instantiateEngine } from './wasm.js';
import { encodeFlowRule, FLOW_A, FLOW_RULE_BYTES, type FlowRuleInput } from './engine/flow.js';
import { loadPlugin, PLUGIN_SCRATCH_PER_WORKER, RemotePluginHost, type PluginSpec, type PluginStats } from './plugins/index.js';

export interface CaptureOptions {
  iface: string;
  backend?: 'afxdp' | 'afpacket';
  netns?: string;
  queues?: number;
  /** Stop after this many frames were written. */
  count?: number;
  /** Stop after this many seconds. */
  durationS?: number;
  rules?: readonly FlowRuleInput[];
  /** Write the capture here (pcapng), frame by frame as they arrive; `-` is standard output. */
  out?: string;
  /** Keep the frames written in `records` too (default true; false holds no frame in memory). */
  keepRecords?: boolean;
  /** Called about every 100 ms with the counters so far. */
  onProgress?: (r: CaptureResult) => void;
  /** Resolves or aborts the capture early (e.g. SIGINT). */
  signal?: AbortSignal;
  /** Parser plugins run on every burst (in a worker of their own); a frame one drops is not written. */
  plugins?: readonly PluginSpec[];
  /** Watchdog budget per burst for the plugins (ms, default 250). */
  pluginBudgetMs?: number;
}

export interface CaptureResult {
  mode: string;
  received: number;
  written: number;
  filtered: number;
  /** Drops the kernel reported (ring full, fill ring empty, ...), by the backend's names. */
  kernel: Record<string, number>;
  bytes: number;
  elapsedS: number;
  /** The frames written, in order (empty when keepRecords is false). */
  records: CaptureRecord[];
  /** Frames a plugin dropped (not written). */
  pluginDropped: number;
  plugins: PluginStats[];
}


export async function capture(o: CaptureOptions): Promise<CaptureResult> {
  const name: BackendName = o.backend ?? 'afpacket';
  const queues = o.queues ?? 1;
  const frameCount = 4096;
  const rules = (o.rules ?? []).map((r) => encodeFlowRule(r, { workers: 64, classes: 4 }));
  // Scratch: the rule table, a burst list + verdicts (4 KiB), and with plugins their gather area.
  const ruleBytes = Math.ceil(Math.max(64, rules.length * FLOW_RULE_BYTES) / 64) * 64;
  const withPlugins = (o.plugins?.length ?? 0) > 0;
  const layout = computeLayout({
    queues, frameCount, kernelBytesPerQueue: kernelBytesFor(name, { frameCount, queues }),
    scratchBytes: ruleBytes + 4096 + (withPlugins ? PLUGIN_SCRATCH_PER_WORKER : 0),
  });
  // Refused plugins stop the capture here, before any socket opens.
  const loaded = (o.plugins ?? []).map((s) => loadPlugin(s, { engineMaxPages: layout.maximumPages }));
  const memory = createMemory(layout);
  writeControlBlock(memory, layout);
  const wasm = instantiateEngine(compileEngine(), memory);
  const table = layout.scratch.offset;
  const list = table + ruleBytes;
  const verdicts = list + 2048;
  const plugins = withPlugins
    ? new RemotePluginHost({ memory, module: compileEngine(), plugins: loaded, scratch: { offset: list + 4096, size: PLUGIN_SCRATCH_PER_WORKER }, maxBurst: 64, budgetMs: o.pluginBudgetMs })
    : undefined;
  if (plugins) await plugins.start();
  rules.forEach((r, i) => new Uint8Array(memory.buffer).set(r, table + i * FLOW_RULE_BYTES));
  const actions = rules.map((r) => new DataView(r.buffer).getUint32(20, true));
  let backend: Backend;
  try {
    backend = openBackend(name, { iface: o.iface, netns: o.netns, memory, layout, queues });
  } catch (e) {
    await plugins?.close();
    throw e;
  }
  const keep = o.keepRecords ?? true;
  // The interface's link type is the first frame's, so the file is created when that frame comes.
  let out: PcapngWriter | undefined;
  const result: CaptureResult = { mode: backend.mode, received: 0, written: 0, filtered: 0, kernel: {}, bytes: 0, elapsedS: 0, records: [], pluginDropped: 0, plugins: [] };
  const u32 = new Uint32Array(memory.buffer);
  const t0 = performance.now();
  const stopAt = o.durationS !== undefined ? t0 + o.durationS * 1000 : Infinity;
  const limit = o.count ?? Infinity;
  const u8 = new Uint8Array(memory.buffer);
  const dv = new DataView(memory.buffer);
  let lastProgress = t0;
  try {
    outer: for (;;) {
      let got = 0;
      for (let q = 0; q < queues; q++) {
        const n = backend.receive(q, 64);
        got += n;
        // Filter first, then the plugins see the burst that is left in one call.
        let kept = 0;
        for (let i = 0; i < n; i++) {
          const m = backend.rxMeta(q, i);
          result.received++;
          if (rules.length || plugins) wasm.parseFrame(m, 0, 0);
          if (rules.length) {
            const hit = wasm.flowMatch(table, rules.length, m);
            if (hit >= 0 && actions[hit] & FLOW_A.DROP) {
              result.filtered++;
              continue;
            }
          }
          u32[(list >> 2) + kept++] = m;
        }
        if (plugins && kept) result.pluginDropped += await plugins.processBurst(list, kept, verdicts);
        for (let i = 0; i < kept; i++) {
          const m = u32[(list >> 2) + i];
          if (plugins && u8[verdicts + i]) continue;
          if (result.written >= limit) continue;
          const data = dv.getUint32(m + META.DATA, true);
          const caplen = dv.getUint32(m + META.CAPLEN, true);
          const record: CaptureRecord = {
            linktype: dv.getUint16(m + META.LINKTYPE, true) || 1,
            timestampNs: dv.getBigUint64(m + META.TIMESTAMP, true),
            data: u8.subarray(data, data + caplen),
            wireLength: Math.max(dv.getUint32(m + META.WIRELEN, true), caplen),
            interfaceId: 0,
          };
          if (o.out) {
            // `-` is standard output, as for tcpdump -w -, so `capture -w - | tshark -r -` works.
            out ??= PcapngWriter.open(o.out, [{ linktype: record.linktype, resolution: 'ns' }]);
            out.write(record);
          }
          if (keep) result.records.push({ ...record, data: record.data.slice() });
          result.written++;
          result.bytes += caplen;
        }
        if (n) backend.release(q);
      }
      const now = performance.now();
      if (result.written >= limit || now >= stopAt || o.signal?.aborted) break outer;
      if (now - lastProgress >= 100) {
        lastProgress = now;
        out?.flush(); // a reader at the other end of -w - sees frames within 100 ms
        result.elapsedS = (now - t0) / 1000;
        o.onProgress?.(result);
        await new Promise((r) => setImmediate(r)); // let timers and signals run
      }
      if (got === 0) {
        backend.wait(0, Math.max(1, Math.min(20, stopAt - now)));
        await new Promise((r) => setImmediate(r));
      }
    }
    out?.flush();
    const st = backend.stats();
    for (const [k, v] of Object.entries(st.drops)) if (v) result.kernel[k] = v;
  } finally {
    // A capture that wrote nothing still leaves a valid (empty) file.
    if (o.out) (out ?? PcapngWriter.open(o.out, [{ linktype: 1, resolution: 'ns' }])).close();
    backend.close();
    if (plugins) {
      result.plugins = plugins.stats();
      await plugins.close();
    }
  }
  result.elapsedS = (performance.now() - t0) / 1000;
  return result;
}
