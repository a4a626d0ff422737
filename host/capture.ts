// Live capture to pcapng: frames from an AF_XDP or AF_PACKET backend, parsed and matched against
// flow-director rules in WASM (a `drop` rule filters, a `mark` is kept in the packet comment-free
// record order), then written as they arrive as pcapng with one interface block (link type,
// nanosecond timestamp resolution) that tshark and Wireshark read, into one file or a rotating set
// (tcpdump's -C/-W/-G, host/pcap/rotate.ts), through a streaming writer: bounded memory however
// long the capture runs.
import { openBackend, kernelBytesFor, type Backend, type BackendName } from './backends/index.js';
import { computeLayout, createMemory, writeControlBlock } from './layout.js';
import { META } from './meta.js';
import { MAX_RECORD_BYTES, pcapngFormat, RotatingWriter, type CaptureRecord, type RotationOptions } from './pcap/index.js';
import { compileEngine, instantiateEngine } from './wasm.js';
import { encodeFlowRule, FLOW_A, FLOW_RULE_BYTES, type FlowRuleInput } from './engine/flow.js';
import { loadPlugin, PLUGIN_SCRATCH_PER_WORKER, RemotePluginHost, type PluginSpec, type PluginStats } from './plugins/index.js';
import { Filter, compileExpression, encodeBpf } from './filter/index.js';

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
  /** Write the capture here (pcapng) as it arrives; `-` is standard output (give `stdout` then). */
  out?: string;
  /** The writer of `out` = `-`: one that waits out a full pipe. */
  stdout?: { write(bytes: Uint8Array): void };
  /** Rotate `out` by size and/or time, as tcpdump's -C, -W and -G do. */
  rotation?: RotationOptions;
  /** Bytes kept of each frame (tcpdump -s); 0 or absent: 262144. */
  snaplen?: number;
  /** Called once per burst with the frames written in it (e.g. to print them). */
  onRecords?: (records: readonly CaptureRecord[]) => void;
  /** Keep every written frame in the result's `records` (memory grows with the capture). */
  keepRecords?: boolean;
  /** Called about every 100 ms with the counters so far. */
  onProgress?: (r: CaptureResult) => void;
  /** Resolves or aborts the capture early (e.g. SIGINT). */
  signal?: AbortSignal;
  /** Parser plugins run on every burst (in a worker of their own); a frame one drops is not written. */
  plugins?: readonly PluginSpec[];
  /** Watchdog budget per burst for the plugins (ms, default 250). */
  pluginBudgetMs?: number;
  /**
   * A filter expression (pcap-filter(7)): on AF_PACKET attached to the socket, so the kernel keeps
   * rejected packets off the ring; on AF_XDP run over each burst (counted as filtered).
   */
  filter?: string;
}

export interface CaptureResult {
  mode: string;
  received: number;
  written: number;
  ruleDropped: number;
  /** Frames the filter expression rejected here (AF_XDP; on AF_PACKET the kernel drops them uncounted). */
  filtered: number;
  /** Drops the kernel reported (ring full, fill ring empty, ...), by the backend's names. */
  kernel: Record<string, number>;
  bytes: number;
  elapsedS: number;
  /** The written frames, when `keepRecords` asked for them. */
  records: CaptureRecord[];
  /** The files written, in the order they were opened. */
  files: string[];
  /** Frames a plugin dropped (not written). */
  pluginDropped: number;
  /** Frames that came in the last burst after -c was reached or -G/-W made its last file: not written. */
  afterLimit: number;
  /** -G with -W made its last file and the capture stopped (tcpdump: "Maximum file limit reached"). */
  fileLimit?: boolean;
  plugins: PluginStats[];
}


export async function capture(o: CaptureOptions): Promise<CaptureResult> {
  const name: BackendName = o.backend ?? 'afpacket';
  const queues = o.queues ?? 1;
  const frameCount = 4096;
  const rules = (o.rules ?? []).map((r) => encodeFlowRule(r, { workers: 64, classes: 4 }));
  // Scratch: the rule table, a burst list (the filter's u32 verdicts at +1 KiB) + the plugins'
  // verdicts (4 KiB), and with plugins their gather area.
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
  // A bad expression stops the capture here, before any socket opens, with libpcap's message.
  const bpf = o.filter === undefined ? undefined : compileExpression(o.filter, { linktype: 1 });
  const xdpFilter = bpf && name === 'afxdp' ? new Filter(bpf, o.filter).instantiate(memory) : undefined;
  const filterVerdicts = list + 1024;
  let backend: Backend;
  try {
    backend = openBackend(name, { iface: o.iface, netns: o.netns, memory, layout, queues, ...(bpf && name === 'afpacket' ? { filter: encodeBpf(bpf) } : {}) });
  } catch (e) {
    await plugins?.close();
    throw e;
  }
  const result: CaptureResult = { mode: backend.mode, received: 0, written: 0, ruleDropped: 0, filtered: 0, kernel: {}, bytes: 0, elapsedS: 0, records: [], files: [], pluginDropped: 0, afterLimit: 0, plugins: [] };
  const snaplen = o.snaplen || MAX_RECORD_BYTES;
  let writer: RotatingWriter | undefined;
  const burst: CaptureRecord[] = [];
  let fileLimit = false;
  const u32 = new Uint32Array(memory.buffer);
  const t0 = performance.now();
  const stopAt = o.durationS !== undefined ? t0 + o.durationS * 1000 : Infinity;
  const limit = o.count ?? Infinity;
  const u8 = new Uint8Array(memory.buffer);
  const dv = new DataView(memory.buffer);
  let lastProgress = t0;
  try {
    // Opened once the backend is up, so a refused interface leaves no empty file behind. AF_XDP and
    // AF_PACKET (SOCK_RAW) hand over Ethernet frames: one interface block of link type 1.
    if (o.out) writer = new RotatingWriter(o.out, pcapngFormat({ linktype: 1, snaplen, resolution: 'ns' }), o.rotation, o.stdout);
    outer: for (;;) {
      let got = 0;
      for (let q = 0; q < queues; q++) {
        const n = backend.receive(q, 64);
        got += n;
        // Filter first, then the plugins see the burst that is left in one call.
        let kept = 0;
        if (xdpFilter && n) {
          for (let i = 0; i < n; i++) u32[(list >> 2) + i] = backend.rxMeta(q, i);
          xdpFilter.filterBurst(list, n, 0, filterVerdicts);
        }
        for (let i = 0; i < n; i++) {
          const m = backend.rxMeta(q, i);
          result.received++;
          if (xdpFilter && u32[(filterVerdicts >> 2) + i] === 0) {
            result.filtered++;
            continue;
          }
          if (rules.length || plugins) wasm.parseFrame(m, 0, 0);
          if (rules.length) {
            const hit = wasm.flowMatch(table, rules.length, m);
            if (hit >= 0 && actions[hit] & FLOW_A.DROP) {
              result.ruleDropped++;
              continue;
            }
          }
          u32[(list >> 2) + kept++] = m;
        }
        if (plugins && kept) result.pluginDropped += await plugins.processBurst(list, kept, verdicts);
        burst.length = 0;
        for (let i = 0; i < kept; i++) {
          const m = u32[(list >> 2) + i];
          if (plugins && u8[verdicts + i]) continue;
          if (result.written >= limit || fileLimit) {
            result.afterLimit++;
            continue;
          }
          const data = dv.getUint32(m + META.DATA, true);
          const caplen = dv.getUint32(m + META.CAPLEN, true);
          const r: CaptureRecord = {
            linktype: dv.getUint16(m + META.LINKTYPE, true) || 1,
            timestampNs: dv.getBigUint64(m + META.TIMESTAMP, true),
            data: u8.slice(data, data + Math.min(caplen, snaplen)),
            wireLength: Math.max(dv.getUint32(m + META.WIRELEN, true), caplen),
            interfaceId: 0,
          };
          // -G with -W: the last file's period is over; tcpdump stops before writing this frame.
          if (writer && !writer.write(r)) {
            fileLimit = true;
            result.afterLimit++;
            continue;
          }
          burst.push(r);
          if (o.keepRecords) result.records.push(r);
          result.written++;
          result.bytes += r.data.length;
        }
        if (burst.length) o.onRecords?.(burst);
        if (n) backend.release(q);
      }
      const now = performance.now();
      if (result.written >= limit || fileLimit || now >= stopAt || o.signal?.aborted) break outer;
      if (now - lastProgress >= 100) {
        lastProgress = now;
        writer?.flush(); // a reader at the other end of -w - sees frames within 100 ms
        result.elapsedS = (now - t0) / 1000;
        o.onProgress?.(result);
        await new Promise((r) => setImmediate(r)); // let timers and signals run
      }
      if (got === 0) {
        backend.wait(0, Math.max(1, Math.min(20, stopAt - now)));
        await new Promise((r) => setImmediate(r));
      }
    }
    writer?.flush();
    const st = backend.stats();
    for (const [k, v] of Object.entries(st.drops)) if (v) result.kernel[k] = v;
  } finally {
    writer?.close();
    if (writer) result.files = writer.opened;
    backend.close();
    if (plugins) {
      result.plugins = plugins.stats();
      await plugins.close();
    }
  }
  result.elapsedS = (performance.now() - t0) / 1000;
  result.fileLimit = fileLimit;
  return result;
}
