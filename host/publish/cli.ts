// The publish options every engine command shares (--publish URL [--subject S] [--engine-id ID] ...)
// and running an engine with its sink: the final --json then carries the sink's counts under
// "publish", after the last ack came in.
import { Option, type Command } from 'commander';
import type { Engine, EngineStats } from '../engine/engine.js';
import { runEngine, type EngineCliOptions } from '../cli/engine-options.js';
import { statsJson } from '../cli/display.js';
import { registerPublishMetrics } from './metrics.js';
import { PublishSink, type PublishConfig, type PublishStats } from './sink.js';

export interface PublishCliOptions {
  publish?: string;
  subject?: string;
  engineId?: string;
  publishStream?: string;
  onFull?: 'block' | 'drop';
  batchBytes?: string;
  maxPending?: string;
}

export function addPublishOptions(cmd: Command): Command {
  return cmd
    .option('--publish <url>', 'publish what handlers and plugins produce to NATS (several servers: comma separated)')
    .option('--subject <prefix>', 'subject prefix of the records messages (default wirewasm.<engine-id>.records)')
    .option('--engine-id <id>', 'this engine in subjects and message ids (default <hostname>-<pid>)')
    .option('--publish-stream <name>', 'JetStream stream to publish into (acknowledged, deduplicated; created with the prefix if missing)')
    .addOption(new Option('--on-full <mode>', 'when the publish window is full: hold the engine, or drop and count publish_dropped').choices(['block', 'drop']).default('block'))
    .option('--batch-bytes <n>', 'largest records message in bytes', '65536')
    .option('--max-pending <n>', 'bytes published and not yet acknowledged before the window is full', String(8 << 20));
}

const int = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: expected a positive integer, got "${v}"`);
  return n;
};

/** The sink's config the options describe; undefined without --publish. */
export function publishConfigFrom(o: PublishCliOptions): PublishConfig | undefined {
  if (!o.publish) {
    if (o.subject || o.publishStream) throw new Error('--subject and --publish-stream need --publish URL');
    return undefined;
  }
  return {
    url: o.publish,
    subject: o.subject,
    engineId: o.engineId,
    stream: o.publishStream,
    onFull: o.onFull,
    batchBytes: int('--batch-bytes', o.batchBytes),
    maxPending: int('--max-pending', o.maxPending),
  };
}

/** runEngine with a publish sink beside it (when configured); --json waits for the sink's last ack. */
export async function runPublishing(engine: Engine, o: EngineCliOptions & PublishCliOptions, title: string, extra: Record<string, unknown> = {}): Promise<{ stats: EngineStats; publish?: PublishStats }> {
  const config = publishConfigFrom(o);
  if (!config) return { stats: await runEngine(engine, o, title, extra) };
  const sink = await PublishSink.open(config);
  if (!o.quiet && !o.json) process.stderr.write(`wirewasm: publishing to ${config.url} as ${sink.engineId} (${sink.mode}${config.stream ? ` stream ${config.stream}` : ''}, on full: ${config.onFull ?? 'block'})\n`);
  const published = sink.run(engine);
  published.catch(() => undefined);
  try {
    const stats = await runEngine(engine, { ...o, json: false, quiet: o.quiet || (o.json && !process.stderr.isTTY) }, title, extra, (registry) => registerPublishMetrics(registry, () => sink.stats()));
    const publish = await published;
    if (o.json) process.stdout.write(JSON.stringify(statsJson(stats, { ...extra, publish })) + '\n');
    else if (!o.quiet)
      process.stderr.write(`published ${publish.records_published} of ${publish.records_in} records in ${publish.messages_published} messages; publish_dropped=${publish.publish_dropped} retries=${publish.retries} reconnects=${publish.reconnects}\n`);
    return { stats, publish };
  } finally {
    await sink.close();
  }
}
