#!/usr/bin/env node
// `wirewasm`: loads only the module of the command being run, so `wirewasm --help` and a command's
// start do not wait for every other command's imports. The build records the top-level help and
// which file registers each command (dist/host/cli/manifest.json, scripts/cli-manifest.mjs); without
// that record, or for a name it does not know, every command is loaded and commander answers.
import { existsSync, readFileSync } from 'node:fs';
import module from 'node:module';

// Node 22.1 and later keep V8's compiled code of the modules a command loads on disk between runs
// (module.enableCompileCache), so a command's start does not compile them again; it applies to
// modules loaded after the call, hence the dynamic imports below.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { CommanderError } = await import('commander');
const { addCommands, manifestFile, newProgram } = await import('./program.js');
type CliManifest = import('./program.js').CliManifest;

const args = process.argv.slice(2);
const manifest: CliManifest | undefined = existsSync(manifestFile()) ? JSON.parse(readFileSync(manifestFile(), 'utf8')) : undefined;
// The first word that is not an option names the command (the top level has only -h and -V).
const word = args.find((a) => !a.startsWith('-'));
const named = word === 'help' ? args[args.indexOf('help') + 1] : word;

if (manifest && named === undefined && (args.length === 0 || word === 'help' || args.some((a) => a === '-h' || a === '--help'))) {
  // commander's own answer: help on stdout for --help; on stderr with exit 1 when no command is given.
  if (args.length === 0) {
    process.stderr.write(manifest.help);
    process.exit(1);
  }
  process.stdout.write(manifest.help);
  process.exit(0);
}

const file = named !== undefined ? manifest?.commands[named] : undefined;
// -V needs no command at all; a name the manifest does not know needs them all (commander's error or suggestion).
const version = named === undefined && args.some((a) => a === '-V' || a === '--version');
const program = await addCommands(newProgram(), file ? [file] : version ? [] : undefined);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  process.stderr.write(`wirewasm: ${(e as Error).message}\n`);
  process.exit(1);
}
