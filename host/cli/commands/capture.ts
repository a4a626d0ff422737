// `wirewasm capture --iface IF`: frames from AF_XDP or AF_PACKET, less those flow-director rules and
// the filter expression drop, written as pcapng (nanosecond timestamps) that tshark and Wireshark read,
// or, without -w, printed one line per frame as tcpdump prints them (the text form of `dissect`).
import type { Command } from 'commander';
import { addFilterArgs, filterExpression, type FilterCliOptions } from '../filter-args.js';
import { capture, type CaptureResult } from '../../capture.js';
import { FrameParser } from '../../parser.js';
import type { CaptureRecord } from '../../pcap/index.js';
import { packetText } from '../dissect-text.js';
import { OutputClosed, SyncOutput } from '../output.js';
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
  `t=${r.elapsedS.toFixed(1)}s received=${r.received} written=${r.written} rule_drop=${r.ruleDropped} filtered=${r.filtered} kernel_drops=${Object.values(r.kernel).reduce((a, b) => a + b, 0)}`;

export function register(program: Command): void {
  const cmd = program
    .command('capture')
    .description('capture frames from an interface (AF_XDP or AF_PACKET) into pcapng files, or print one line per frame')
    .requiredOption('-i, --iface <name>', 'interface to capture on')
    .option('-b, --backend <name>', 'afxdp or afpacket', 'afpacket')
    .option('-w, --write <file>', 'pcapng file to write (- for standard output); without -w each frame is printed as a line')
    .option('-c, --count <n>', 'stop after n frames', num('--count'))
    .option('-s, --snaplen <bytes>', 'keep this many bytes of each frame (0: 262144)', num('--snaplen'))
    .option('-C, --file-size <MB>', 'before writing a frame, start a new file if this one is over MB million bytes: FILE, FILE1, FILE2, ... (tcpdump -C)', num('--file-size'))
    .option('-W, --file-count <n>', 'with -C: a ring of n files (FILE0 .. FILE<n-1>, overwritten in turn); with -G: stop after n files (tcpdump -W)', num('--file-count'))
    .option('-G, --rotate-seconds <s>', 'start a new file every s seconds; FILE is a strftime(3) pattern, e.g. cap-%H%M%S.pcapng (tcpdump -G)', num('--rotate-seconds'))
    .option('-d, --duration <s>', 'stop after s seconds', num('--duration'))
    .option('--rule <rule>', 'flow-director rule; "... -> drop" filters frames out (repeatable)', collect)
    .option('--netns <name>', 'network namespace of the interface (ip netns name)')
    .option('--queues <n>', 'queues to open', num('--queues'))
    .option('--json', 'print the result as one JSON object')
    .option('-q, --quiet', 'no progress lines');
  addPublishOptions(addPluginOptions(addFilterArgs(cmd)))
    .action(async (words: string[], o: { iface: string; backend: string; write?: string; count?: number; snaplen?: number; fileSize?: number; fileCount?: number; rotateSeconds?: number; duration?: number; rule?: string[]; netns?: string; queues?: number; json?: boolean; quiet?: boolean } & PluginCliOptions & PublishCliOptions & FilterCliOptions) => {
      const filter = filterExpression(words, o);
      const backend = o.backend;
      if (backend !== 'afxdp' && backend !== 'afpacket') throw new Error(`capture: --backend ${backend}: use afxdp or afpacket`);
      if (o.write === '-' && o.json) throw new Error('capture: -w - puts the capture on standard output, where --json would go too; drop --json or write to a file');
      if (!o.write && (o.fileSize !== undefined || o.fileCount !== undefined || o.rotateSeconds !== undefined)) throw new Error('capture: -C, -W and -G rotate the files of -w: give -w FILE');
      if (o.count === undefined && o.duration === undefined && !process.stdin.isTTY && !o.write)
        process.stderr.write('wirewasm: capturing until interrupted (Ctrl-C); give --count or --duration to stop on your own\n');
      // The capture pipeline hands its frames over at the end, so they are published then.
      const publishTo = publishConfigFrom(o);
      const sink = publishTo ? await PublishSink.open({ ...publishTo, statsIntervalMs: 0 }) : undefined;
      const stdout = new SyncOutput(1);
      // Without -w (and without --json, which owns standard output) every frame is printed.
      const print = !o.write && !o.json ? framePrinter(stdout) : undefined;
      let r: CaptureResult;
      try {
        r = await untilInterrupted((signal) =>
          capture({
            iface: o.iface, backend, netns: o.netns, queues: o.queues, count: o.count, durationS: o.duration, rules: o.rule ?? [], signal,
            out: o.write, stdout, snaplen: o.snaplen, keepRecords: sink !== undefined, onRecords: print,
            rotation: { maxBytes: o.fileSize === undefined ? undefined : o.fileSize * 1_000_000, files: o.fileCount, rotateS: o.rotateSeconds },
            plugins: pluginSpecs(o), pluginBudgetMs: pluginBudget(o), filter,
            onProgress: o.quiet || o.json || print ? undefined : (p) => process.stderr.write((process.stderr.isTTY ? '\r' : '') + line(p) + (process.stderr.isTTY ? '' : '\n')),
          }),
        );
      } catch (e) {
        // The reader of the printed lines has gone (capture ... | head): stop quietly, as tcpdump does.
        if (e instanceof OutputClosed) return;
        throw e;
      }
      if (r.fileLimit) process.stderr.write(`Maximum file limit reached: ${o.fileCount}\n`);
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
        process.stdout.write(JSON.stringify({ ...summary, rx_packets: r.received + Object.values(r.kernel).reduce((a, b) => a + b, 0), delivered: r.written, dropped: { rule_drop: r.ruleDropped, filtered: r.filtered, kernel: Object.values(r.kernel).reduce((a, b) => a + b, 0), plugin: r.pluginDropped, after_limit: r.afterLimit }, file: o.write, ...(publish ? { publish } : {}) }) + '\n');
    });
}

/** Prints each burst's frames as `dissect` prints them, numbered from 1 across the capture. */
function framePrinter(out: SyncOutput): (records: readonly CaptureRecord[]) => void {
  const parser = new FrameParser({ batch: 64 });
  let n = 0;
  return (records) => {
    let text = '';
    parser.parse(records, (pkt, _i, rec) => {
      text += packetText(pkt, ++n, rec.data.length, rec.timestampNs) + '\n';
    });
    out.write(text);
  };
}
