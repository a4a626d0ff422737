// `wirewasm capture --iface IF`: frames from AF_XDP or AF_PACKET, filtered by flow-director rules,
// written as pcapng (nanosecond timestamps) that tshark and Wireshark read.
import type { Command } from 'commander';
import { capture, type CaptureResult } from '../../capture.js';
import { addPluginOptions, pluginBudget, pluginSpecs, type PluginCliOptions } from '../../plugins/index.js';
import { untilInterrupted } from '../interrupt.js';
import { addPublishOptions, publishConfigFrom, type PublishCliOptions } from '../../publish/cli.js';
import { PublishSink } from '../../publish/sink.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const num = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${flag}: expected a number >= 0, got "${v}"`);
  return n;
};

const line = (r: CaptureResult) =>
  `t=${r.elapsedS.toFixed(1)}s received=${r.received} written=${r.written} filtered=${r.filtered} kernel_drops=${Object.values(r.kernel).reduce((a, b) => a + b, 0)}`;

export function register(program: Command): void {
  const cmd = program
    .command('capture')
    .description('capture frames from an interface (AF_XDP or AF_PACKET) into a pcapng file')
    .requiredOption('-i, --iface <name>', 'interface to capture on')
    .option('-b, --backend <name>', 'afxdp or afpacket', 'afpacket')
    .option('-w, --write <file>', 'pcapng file to write (- for standard output)')
    .option('-c, --count <n>', 'stop after n frames', num('--count'))
    .option('-d, --duration <s>', 'stop after s seconds', num('--duration'))
    .option('--rule <rule>', 'flow-director rule; "... -> drop" filters frames out (repeatable)', collect)
    .option('--netns <name>', 'network namespace of the interface (ip netns name)')
    .option('--queues <n>', 'queues to open', num('--queues'))
    .option('--json', 'print the result as one JSON object')
    .option('-q, --quiet', 'no progress lines');
  addPublishOptions(addPluginOptions(cmd))
    .action(async (o: { iface: string; backend: string; write?: string; count?: number; duration?: number; rule?: string[]; netns?: string; queues?: number; json?: boolean; quiet?: boolean } & PluginCliOptions & PublishCliOptions) => {
      const backend = o.backend;
      if (backend !== 'afxdp' && backend !== 'afpacket') throw new Error(`capture: --backend ${backend}: use afxdp or afpacket`);
      if (o.write === '-' && o.json) throw new Error('capture: -w - puts the capture on standard output, where --json would go too; drop --json or write to a file');
      if (o.count === undefined && o.duration === undefined && !process.stdin.isTTY && !o.write)
        process.stderr.write('wirewasm: capturing until interrupted (Ctrl-C); give --count or --duration to stop on your own\n');
      // The capture pipeline hands its frames over at the end, so they are published then.
      const publishTo = publishConfigFrom(o);
      const sink = publishTo ? await PublishSink.open({ ...publishTo, statsIntervalMs: 0 }) : undefined;
      const r = await untilInterrupted((signal) =>
        capture({
          iface: o.iface, backend, netns: o.netns, queues: o.queues, count: o.count, durationS: o.duration, rules: o.rule ?? [], out: o.write, keepRecords: sink !== undefined, signal,
          plugins: pluginSpecs(o), pluginBudgetMs: pluginBudget(o),
          onProgress: o.quiet || o.json ? undefined : (p) => process.stderr.write((process.stderr.isTTY ? '\r' : '') + line(p) + (process.stderr.isTTY ? '' : '\n')),
        }),
      );
      if (!o.quiet && !o.json) process.stderr.write((process.stderr.isTTY ? '\r' : '') + line(r) + '\n');
      let publish;
      if (sink) {
        sink.takeFrames(r.records);
        publish = await sink.close();
        if (!o.quiet && !o.json) process.stderr.write(`published ${publish.records_published} of ${publish.records_in} frames as ${sink.engineId}; publish_dropped=${publish.publish_dropped}\n`);
      }
      const { records: _records, ...summary } = r;
      void _records;
      if (o.json)
        process.stdout.write(JSON.stringify({ ...summary, rx_packets: r.received + Object.values(r.kernel).reduce((a, b) => a + b, 0), delivered: r.written, dropped: { filtered: r.filtered, kernel: Object.values(r.kernel).reduce((a, b) => a + b, 0), plugin: r.pluginDropped }, file: o.write, ...(publish ? { publish } : {}) }) + '\n');
    });
}
