// The plugin options shared by the commands that run traffic (replay, capture, feed):
//
//   --plugin PATH[,key=value...]   repeatable; keys: policy=open|closed, copy=payload|l4|l3|frame,
//                                  port=N, mark=N, trusted, name=NAME, memory=BYTES
//   --plugin-policy open|closed    default policy of every --plugin (default open)
//   --plugin-copy payload|l4|l3|frame  default copy of every --plugin (default payload)
//   --plugin-budget MS             watchdog budget per burst (default 250)
//
// A command adds them with addPluginOptions(cmd) and turns what was parsed into PluginSpec[] with
// pluginSpecs(opts); loadPlugin then refuses a bad plugin with PluginRefused, whose message the
// CLI prints on stderr before exiting non-zero.
import { Option, type Command } from 'commander';
import type { CopyMode, Policy } from './abi.js';
import type { PluginSpec } from './load.js';

export interface PluginCliOptions {
  plugin?: string[];
  pluginPolicy?: Policy;
  pluginCopy?: CopyMode;
  pluginBudget?: string;
}

export class PluginOptionError extends Error {
  constructor(message: string) {
    super(`--plugin: ${message}`);
    this.name = 'PluginOptionError';
  }
}

export function addPluginOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--plugin <path[,key=value...]>', 'load a parser plugin (repeatable; keys: policy, copy, port, mark, trusted, name, memory; docs/plugins.md)').argParser(
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      ),
    )
    .addOption(new Option('--plugin-policy <policy>', 'what a quarantined plugin does to its packets').choices(['open', 'closed']).default('open'))
    .addOption(new Option('--plugin-copy <layer>', 'what an isolated plugin gets copied').choices(['payload', 'l4', 'l3', 'frame']).default('payload'))
    .addOption(new Option('--plugin-budget <ms>', 'watchdog: longest a plugin may hold a worker per burst').default('250'));
}

const int = (key: string, v: string, max: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new PluginOptionError(`${key}=${v}: use a whole number from 0 to ${max}`);
  return n;
};

export function pluginSpecs(opts: PluginCliOptions): PluginSpec[] {
  return (opts.plugin ?? []).map((arg) => {
    const [path, ...kvs] = arg.split(',');
    if (!path) throw new PluginOptionError(`"${arg}" has no path`);
    const spec: PluginSpec = { path, policy: opts.pluginPolicy ?? 'open', copy: opts.pluginCopy ?? 'payload' };
    for (const kv of kvs) {
      const [key, value = ''] = kv.split('=', 2);
      switch (key) {
        case 'policy':
          if (value !== 'open' && value !== 'closed') throw new PluginOptionError(`policy=${value}: use open or closed`);
          spec.policy = value;
          break;
        case 'copy':
          if (!['payload', 'l4', 'l3', 'frame'].includes(value)) throw new PluginOptionError(`copy=${value}: use payload, l4, l3 or frame`);
          spec.copy = value as CopyMode;
          break;
        case 'port':
          spec.route = { ...spec.route, port: int(key, value, 65535) };
          break;
        case 'mark':
          spec.route = { ...spec.route, mark: int(key, value, 2 ** 32 - 1) };
          break;
        case 'trusted':
          spec.trusted = true;
          break;
        case 'name':
          spec.name = value;
          break;
        case 'memory':
          spec.memoryLimit = int(key, value, 2 ** 32);
          break;
        default:
          throw new PluginOptionError(`unknown key "${key}" in "${arg}"; keys: policy, copy, port, mark, trusted, name, memory`);
      }
    }
    return spec;
  });
}

export function pluginBudget(opts: PluginCliOptions): number {
  const n = Number(opts.pluginBudget ?? 250);
  if (!Number.isFinite(n) || n < 1) throw new PluginOptionError(`--plugin-budget ${opts.pluginBudget}: use milliseconds >= 1`);
  return n;
}
