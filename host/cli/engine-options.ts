// What `replay`, `start` and (later) plugin-aware commands share: the engine options on a commander
// command, turning them into an EngineConfig, and running an engine with the stats display, --json and
// --metrics-port. Another command adds its own options and calls these.
import { Option, type Command } from 'commander';
import { Engine, type EngineConfig, type EngineStats } from '../engine/engine.js';
import type { Registry } from 'prom-client';
import { statsDisplay, serveMetrics, statsJson } from './display.js';

export interface EngineCliOptions {
  workers?: string;
  queues?: string;
  rate?: string;
  speed?: string;
  loops?: string;
  handler?: string;
  rule?: string[];
  json?: boolean;
  metricsPort?: string;
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
    .option('-w, --workers <n>', 'worker threads', String(defaults.workers ?? 1))
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
    .option('--json', 'print the final stats as one JSON object on stdout')
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:<port>/metrics while running')
    .option('-q, --quiet', 'no live stats');
}

function num(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}: expected a number >= ${min}, got "${v}"`);
  return n;
}

/** The EngineConfig the options describe (the source is the caller's). */
export function engineConfigFrom(o: EngineCliOptions): EngineConfig {
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

/**
 * Runs an engine to the end (or Ctrl-C), with the stats display, --metrics-port and --json.
 * `registerMetrics` adds a side component's metrics (the publish sink's) to --metrics-port.
 */
export async function runEngine(engine: Engine, o: EngineCliOptions, title: string, extra: Record<string, unknown> = {}, registerMetrics?: (registry: Registry) => void): Promise<EngineStats> {
  await engine.start();
  for (const w of engine.warnings) process.stderr.write(`wirewasm: warning: ${w}\n`);
  engine.on('handler-error', (e: { worker: number; message: string; count: number }) => process.stderr.write(`wirewasm: worker ${e.worker}: handler threw: ${e.message} (${e.count} so far)\n`));
  engine.on('worker-exit', (e: { worker: number; code: number; recovered: number; restarted: boolean }) =>
    process.stderr.write(`wirewasm: worker ${e.worker} died (code ${e.code}); ${e.recovered} frames recovered${e.restarted ? '; restarted' : ''}\n`),
  );
  const metrics = o.metricsPort !== undefined ? await serveMetrics(num('--metrics-port', o.metricsPort, 0)!, () => engine.stats(), registerMetrics) : undefined;
  if (metrics) process.stderr.write(`wirewasm: metrics on http://127.0.0.1:${metrics.port}/metrics\n`);
  const display = statsDisplay(() => engine.stats(), { total: engine.expectedPackets, title, quiet: o.quiet || (o.json && !process.stderr.isTTY) });
  const onSignal = () => void engine.stop().catch(() => undefined);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const stats = await engine.done;
    display.stop(stats);
    if (o.json) process.stdout.write(JSON.stringify(statsJson(stats, extra)) + '\n');
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
