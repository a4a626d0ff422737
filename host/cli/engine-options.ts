// What `replay`, `start` and (later) plugin-aware commands share: the engine options on a commander
// command, turning them into an EngineConfig, and running an engine with the stats display, --json and
// --metrics-port. Another command adds its own options and calls these.
import { Option, type Command } from 'commander';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { loadConfigFile } from '../config.js';
import { Engine, type EngineConfig, type EngineStats } from '../engine/engine.js';
import type { Registry } from 'prom-client';
import { statsDisplay, statsJson } from './display.js';
import { engineRegistry, serveMetrics } from '../metrics.js';

export interface EngineCliOptions {
  workers?: string;
  records?: string;
  config?: string;
  /** The refused -w (see addEngineOptions). */
  w?: string;
  queues?: string;
  rate?: string;
  speed?: string;
  loops?: string;
  handler?: string;
  rule?: string[];
  json?: boolean;
  metricsPort?: string;
  metricsHost?: string;
  burst?: string;
  frames?: string;
  poll?: 'busy' | 'adaptive' | 'wait';
  classes?: string;
  dropErrors?: boolean;
  verifyChecksums?: boolean;
  lossy?: boolean;
  quiet?: boolean;
  txRate?: string;
  txBitRate?: string;
  cpus?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Adds the engine options to a command. */
export function addEngineOptions(cmd: Command, defaults: { workers?: number } = {}): Command {
  return cmd
    .option('--config <file>', 'engine config (JSON, the file `wirewasm info --config` reads); flags given with it win')
    .option('--workers <n>', 'worker threads', String(defaults.workers ?? 1))
    // -w writes a file in tcpdump, dumpcap and every wirewasm command that writes one; here it is
    // refused by name rather than read as a worker count.
    .addOption(new Option('-w <file>').hideHelp())
    .option('--queues <n>', 'receive queues')
    .addOption(new Option('--rate <pps>', 'replay at this many packets per second (token bucket)').conflicts('speed'))
    .addOption(new Option('--speed <x>', "follow the capture's timing, x times faster (1 = real time)").conflicts('rate'))
    .option('--loops <n>', 'play the capture n times (0 = until interrupted)', '1')
    .option('--handler <module>', 'ES module whose default export is called once per burst in each worker')
    .option('--rule <rule>', 'flow-director rule, e.g. "proto udp dport 5000-5100 -> queue 1, mark 7" (repeatable)', collect)
    .option('--classes <n>', 'strict-priority classes per worker (1..4)')
    .option('--burst <n>', 'frames per burst (1..256)')
    .option('--frames <n>', 'frames in the pool (power of two)')
    .addOption(new Option('--poll <mode>', 'worker polling').choices(['busy', 'adaptive', 'wait']).default('adaptive'))
    .option('--drop-errors', 'drop frames the parser flags (counted as parse_error)')
    .option('--verify-checksums', 'verify IPv4/TCP/UDP/ICMP checksums')
    .option('--lossy', 'drop like a NIC when frames or ring room run out, instead of waiting')
    .option('--cpus <list>', 'pin worker i to the i-th CPU of this comma-separated list, e.g. 2,3')
    .option('--tx-rate <pps>', 'shape each transmit queue (what handlers forward(i)) to this many packets per second')
    .option('--tx-bit-rate <bps>', 'shape each transmit queue to this many bits per second')
    .option('--records <file>', "write what handlers emit() and plugins record as JSON lines to <file> (- for standard output)")
    .option('--json', 'print the final stats as one JSON object on stdout')
    .option('--metrics-port <port>', 'serve Prometheus metrics on <host>:<port>/metrics while running (0: any free port)')
    .option('--metrics-host <address>', 'the address --metrics-port listens on', '127.0.0.1')
    .option('-q, --quiet', 'no stats display');
}

function num(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}: expected a number >= ${min}, got "${v}"`);
  return n;
}

/** The keys of a config file (host/config.ts) the engine takes; the rest it computes itself. */
const FILE_KEYS = ['queues', 'workers', 'frameCount', 'frameSize', 'ringSize'] as const;

/**
 * The EngineConfig the options describe (the source is the caller's): --config's file first, then
 * every flag given on the command line (`cmd` tells which were; a default yields to the file).
 */
export function engineConfigFrom(o: EngineCliOptions, cmd?: Command): EngineConfig {
  const flags = flagConfig(o);
  if (o.config === undefined) return flags;
  const file = loadConfigFile(o.config);
  const other = Object.keys(file).filter((k) => !(FILE_KEYS as readonly string[]).includes(k));
  if (other.length) throw new Error(`--config ${o.config}: ${other.join(', ')} ${other.length > 1 ? 'are' : 'is'} for \`wirewasm info\` only; an engine run takes ${FILE_KEYS.join(', ')}`);
  const given = (name: string) => cmd?.getOptionValueSource(name) === 'cli';
  const out: EngineConfig = Object.fromEntries(FILE_KEYS.filter((k) => file[k] !== undefined).map((k) => [k, file[k]]));
  for (const [k, v] of Object.entries(flags) as [keyof EngineConfig, unknown][]) {
    if (v === undefined || (k === 'workers' && !given('workers') && file.workers !== undefined)) continue;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

function flagConfig(o: EngineCliOptions): EngineConfig {
  if (o.records === '-' && o.json) throw new Error('--records - puts the records on standard output, where --json would go too; write the records to a file or drop --json');
  if (o.w !== undefined) throw new Error(`-w ${o.w}: -w writes a file (as in tcpdump) and this command writes none; worker threads are --workers ${o.w}`);
  return {
    workers: num('--workers', o.workers, 1),
    queues: num('--queues', o.queues, 1),
    replay: { loops: num('--loops', o.loops, 0), rate: num('--rate', o.rate), speed: num('--speed', o.speed), lossy: Boolean(o.lossy) },
    handler: o.handler,
    rules: o.rule ?? [],
    classes: num('--classes', o.classes, 1),
    burst: num('--burst', o.burst, 1),
    frameCount: num('--frames', o.frames, 16),
    poll: o.poll,
    parse: { dropErrors: Boolean(o.dropErrors), verifyChecksums: Boolean(o.verifyChecksums) },
    tx: { rate: num('--tx-rate', o.txRate), bitRate: num('--tx-bit-rate', o.txBitRate) },
    cpus: o.cpus === undefined ? undefined : o.cpus.split(',').map((x) => num('--cpus', x.trim())!),
  };
}

/** One JSON line per emitted value (`{"value":n}`) and per plugin record (bytes in hex), in batch order. */
async function writeRecords(engine: Engine, file: string): Promise<void> {
  const out: NodeJS.WritableStream = file === '-' ? process.stdout : createWriteStream(file);
  const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  for await (const batch of engine.records()) {
    let text = '';
    for (const value of batch.values) text += `{"value":${value}}\n`;
    for (const r of batch.plugins)
      text += JSON.stringify({ plugin: r.plugin, kind: r.kind, bytes: hex(r.bytes), packet: r.metadata && { ...r.metadata, timestampNs: String(r.metadata.timestampNs) } }) + '\n';
    if (text && !out.write(text)) await once(out, 'drain');
  }
  if (out !== process.stdout) await finished(out.end());
}

/**
 * Runs an engine to the end (or Ctrl-C), with the stats display, --metrics-port and --json.
 * `registerMetrics` adds a side component's metrics (the publish sink's) to --metrics-port.
 */
export async function runEngine(engine: Engine, o: EngineCliOptions, title: string, extra: Record<string, unknown> = {}, registerMetrics?: (registry: Registry) => void): Promise<EngineStats> {
  await engine.start();
  for (const w of engine.warnings) process.stderr.write(`wirewasm: warning: ${w}\n`);
  let firstError: string | undefined;
  engine.on('handler-error', (e: { worker: number; message: string; count: number }) => {
    firstError ??= e.message;
    process.stderr.write(`wirewasm: worker ${e.worker}: handler threw: ${e.message} (${e.count} so far)\n`);
  });
  engine.on('worker-exit', (e: { worker: number; code: number; recovered: number; restarted: boolean }) =>
    process.stderr.write(`wirewasm: worker ${e.worker} died (code ${e.code}); ${e.recovered} frames recovered${e.restarted ? '; restarted' : ''}\n`),
  );
  const registry = o.metricsPort !== undefined ? engineRegistry(() => engine.stats()) : undefined;
  if (registry) registerMetrics?.(registry);
  const metrics = registry ? await serveMetrics(registry, { port: num('--metrics-port', o.metricsPort, 0)!, host: o.metricsHost }) : undefined;
  if (metrics) process.stderr.write(`wirewasm: metrics on ${metrics.url}\n`);
  const records = o.records !== undefined ? writeRecords(engine, o.records) : undefined;
  const display = statsDisplay(() => engine.stats(), { total: engine.expectedPackets, title, quiet: o.quiet || (o.json && !process.stderr.isTTY) });
  const onSignal = () => void engine.stop().catch(() => undefined);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const stats = await engine.done;
    await records;
    display.stop(stats);
    for (const p of stats.plugins) if (p.lastError) process.stderr.write(`wirewasm: plugin ${p.name}: last error (${p.lastError.kind}): ${p.lastError.message}\n`);
    if (o.json) process.stdout.write(JSON.stringify(statsJson(stats, extra)) + '\n');
    // A damaged capture, as in tcpdump: what came before it was replayed, the damage named, a non-zero exit.
    if (engine.inputProblem) {
      process.stderr.write(`wirewasm: ${engine.inputProblem}\n`);
      process.exitCode = 1;
    }
    // A handler that failed on every burst is a broken run, not a run with some drops.
    if (stats.dropped.handler_error > 0 && stats.delivered === 0)
      throw new Error(`the handler threw on every burst (${stats.dropped.handler_error} frames dropped as handler_error); the first error: ${firstError ?? 'unknown'}`);
    return stats;
  } catch (e) {
    display.stop();
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await metrics?.close();
  }
}
