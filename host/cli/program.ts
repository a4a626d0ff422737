// The `wirewasm` command tree: each file in commands/ registers one subcommand, so adding a command
// is adding a file. main.ts loads only the file of the command being run (a command's module pulls
// in the engine, the backends, the feed...: all of them take a second or more to import);
// scripts/cli-manifest.mjs loads them all once at build time to record the top-level help.
import { Command, Help, type Option } from 'commander';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packageRoot } from '../paths.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.extname(fileURLToPath(import.meta.url));

/** The command modules, by file name (without extension), in name order. */
export function commandFiles(): string[] {
  return readdirSync(path.join(here, 'commands'))
    .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -ext.length))
    .sort();
}

/** The top-level program with no subcommand yet. */
export function newProgram(): Command {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string; description: string };
  return new Command('wirewasm')
    .description(pkg.description)
    .version(pkg.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    // Inherited by every subcommand: a required option says so, as one with a default shows it.
    .configureHelp({
      optionDescription(this: Help, option: Option): string {
        const text = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `${text} (required)` : text;
      },
    })
    .exitOverride();
}

/** Registers the commands of `files` (all by default) on `program`. */
export async function addCommands(program: Command, files: string[] = commandFiles()): Promise<Command> {
  for (const f of files) {
    const mod = (await import(pathToFileURL(path.join(here, 'commands', f + ext)).href)) as { register?: (p: Command) => void };
    mod.register?.(program);
  }
  return program;
}

/** What main.ts needs to answer `--help` and route a command without importing every command module. */
export interface CliManifest {
  /** `wirewasm --help` as commander prints it. */
  help: string;
  /** Command name or alias -> the commands/ file that registers it. */
  commands: Record<string, string>;
}

export const manifestFile = (): string => path.join(here, 'manifest.json');

/** Builds the manifest by loading every command module. */
export async function buildManifest(): Promise<CliManifest> {
  const commands: Record<string, string> = {};
  for (const f of commandFiles()) {
    const one = await addCommands(newProgram(), [f]);
    for (const c of one.commands) for (const n of [c.name(), ...c.aliases()]) commands[n] = f;
  }
  const all = await addCommands(newProgram());
  return { help: all.helpInformation(), commands };
}
