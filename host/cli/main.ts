#!/usr/bin/env node
// `wirewasm`: each file in commands/ registers one subcommand, so adding a command is adding a file.
import { Command, CommanderError } from 'commander';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packageRoot } from '../paths.js';

const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string; description: string };
const program = new Command('wirewasm')
  .description(pkg.description)
  .version(pkg.version, '-V, --version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.join(here, 'commands');
const ext = path.extname(fileURLToPath(import.meta.url));
for (const f of readdirSync(dir).filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts')).sort()) {
  const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { register?: (p: Command) => void };
  mod.register?.(program);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  process.stderr.write(`wirewasm: ${(e as Error).message}\n`);
  process.exit(1);
}
