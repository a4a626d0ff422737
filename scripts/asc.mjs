// Runs the AssemblyScript compiler and fails on any diagnostic it prints, warnings included: a
// warning (an @inline the compiler could not honour, say) is a build fault, not noise to scroll past.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const ascBin = path.join(path.dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');

/** Compiles with `args` (as asc's command line); throws when asc fails or prints a WARNING. */
export function asc(args) {
  const r = spawnSync(process.execPath, [ascBin, ...args], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (r.stderr) process.stderr.write(r.stderr);
  if (r.status !== 0) throw new Error(`asc ${args[0]}: failed (exit ${r.status})`);
  const warnings = (r.stderr.match(/^WARNING AS\d+/gm) ?? []).length;
  if (warnings) throw new Error(`asc ${args[0]}: ${warnings} warning(s) above; fix them (the build allows none)`);
}
