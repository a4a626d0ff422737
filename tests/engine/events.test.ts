// The Engine's events are typed for TypeScript users: a listener gets the event's own type, and a
// misspelt event or a listener of the wrong shape does not compile. Checked by compiling a user's
// file against the published declarations (dist/host/index.d.ts) with tsc.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { artefact, packageRoot } from '../../host/paths.js';

it('engine.on() types each event: right listeners compile, wrong ones are errors', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wwev-'));
  try {
    const file = path.join(dir, 'user.ts');
    writeFileSync(
      file,
      `import { Engine, type EngineStats, type HandlerError, type WorkerExit } from ${JSON.stringify(artefact('dist/host/index.js'))};
const engine = new Engine({ file: 'x.pcap' });
engine.on('worker-exit', (e: WorkerExit) => e.recovered + e.worker);
engine.on('handler-error', (e) => e.message.length + e.count);
engine.on('error', (e) => e.message);
engine.once('stopped', (s: EngineStats) => s.delivered);
const h: HandlerError = { worker: 0, name: 'TypeError', message: 'x', count: 1 };
void h;
// @ts-expect-error: no such event
engine.on('handler-eror', () => undefined);
// @ts-expect-error: a worker-exit listener gets a WorkerExit, not a string
engine.on('worker-exit', (e: string) => e);
// @ts-expect-error: HandlerError has no "code"
engine.on('handler-error', (e) => e.code);
`,
    );
    const tsc = path.join(packageRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = (() => {
      try {
        return execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--types', 'node', '--typeRoots', path.join(packageRoot, 'node_modules', '@types'), '--skipLibCheck', file], { encoding: 'utf8' });
      } catch (e) {
        return (e as { stdout: string }).stdout;
      }
    })();
    expect(r).toBe('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
