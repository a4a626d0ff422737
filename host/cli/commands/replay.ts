// `wirewasm replay FILE`: a capture through the whole engine (workers, parse, RSS, flow rules,
// handler), as fast as possible unless --rate or --speed says otherwise.
import type { Command } from 'commander';
import { Engine } from '../../engine/engine.js';
import { addEngineOptions, engineConfigFrom, type EngineCliOptions } from '../../cli/engine-options.js';
import { addPluginOptions, pluginBudget, pluginSpecs, type PluginCliOptions } from '../../plugins/index.js';
import { addPublishOptions, runPublishing, type PublishCliOptions } from '../../publish/cli.js';
import { addFilterArgs, filterExpression, type FilterCliOptions } from '../filter-args.js';

export function register(program: Command): void {
  addPublishOptions(addPluginOptions(addEngineOptions(addFilterArgs(
    program
      .command('replay')
      .description('replay a pcap/pcapng capture through the engine: workers, parse, RSS, flow rules, your handler; stats display')
      .argument('<file>', "capture file (pcap or pcapng), read as it plays; '-' reads stdin")
      .option('-c, --count <n>', 'replay only the first n frames (all loops together)'),
  )))).action(async (file: string, words: string[], opts: EngineCliOptions & PluginCliOptions & PublishCliOptions & FilterCliOptions & { count?: string }, cmd: Command) => {
    const filter = filterExpression(words, opts);
    const config = engineConfigFrom(opts, cmd);
    if (opts.count !== undefined && !/^\d+$/.test(opts.count)) throw new Error(`--count ${opts.count}: give a whole number of frames`);
    const replay = opts.count === undefined ? config.replay : { ...config.replay, count: Number(opts.count) };
    const engine = new Engine({ ...config, replay, backend: 'pcap', file, plugins: pluginSpecs(opts), pluginBudgetMs: pluginBudget(opts), ...(filter ? { filter } : {}) });
    const { stats } = await runPublishing(engine, opts, `replay ${file}`, { file });
    if (stats.in_flight !== 0 || stats.pool.in_use !== 0) {
      process.stderr.write(`wirewasm: ${stats.in_flight} frames unaccounted, ${stats.pool.in_use} not back in the pool: this is a bug, please report it\n`);
      process.exitCode = 3;
    }
  });
}
