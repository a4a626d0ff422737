// Every TypeScript and JavaScript snippet of the README works against the built package: each is
// compiled with tsc as a user's module importing 'wirewasm' (resolved through the package's
// `exports` to the published declarations), so a snippet that no longer fits the API fails here;
// the quick start, a whole program, also runs (on a real capture, through its handler).
// Names a snippet takes from its surrounding prose (`memory`, `list`, ...) are declared in one
// prelude below; nothing else is added to a snippet.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { artefact, packageRoot } from '../../host/paths.js';
import { FrameParser } from '../../host/parser.js';
import { readCaptureFile } from '../../host/pcap/index.js';

const README = artefact('README.md');
const capture = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump', 'isis_iid_tlv.pcap');

/** The ```ts and ```js blocks of the README, with the line each starts on. */
function snippets(): { line: number; lang: string; code: string }[] {
  const out: { line: number; lang: string; code: string }[] = [];
  const lines = readFileSync(README, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(\w*)/.exec(lines[i]);
    if (!m) continue;
    const start = i;
    while (++i < lines.length && !/^```/.test(lines[i]));
    if (m[1] === 'ts' || m[1] === 'js') out.push({ line: start + 1, lang: m[1], code: lines.slice(start + 1, i).join('\n') });
  }
  return out;
}

const PRELUDE = `import type { Engine, Layout } from 'wirewasm';
import type { EngineExports } from './host/abi.js';
declare global {
  var memory: WebAssembly.Memory;
  var exports: EngineExports;
  var layout: Layout;
  var engine: Engine;
  var offset: number, stagingAddress: number, n: number, list: number, count: number, metaBase: number, verdicts: number;
  var frameIndexes: Uint32Array;
  function use(...values: unknown[]): void;
}
export {};
`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'wwsnip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README snippets', () => {
  const all = snippets();

  it('the README has its snippets (the reader found them)', () => {
    expect(all.length).toBeGreaterThanOrEqual(6);
  });

  it('each compiles with tsc against the built package, as a user module', () => {
    // A user's project: 'wirewasm' from node_modules (this checkout, through its exports map).
    execFileSync('mkdir', ['-p', path.join(dir, 'node_modules')]);
    symlinkSync(packageRoot, path.join(dir, 'node_modules', 'wirewasm'));
    // The one snippet of internals (rings) imports this repository's host/ by a relative path.
    symlinkSync(artefact('dist/host'), path.join(dir, 'host'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(path.join(dir, 'prelude.d.ts'), PRELUDE);
    const files = all.map((s) => {
      const f = path.join(dir, `readme-${s.line}.${s.lang === 'ts' ? 'ts' : 'mjs'}`);
      // A snippet without an import is still a module of its own (its names do not meet another's).
      writeFileSync(f, /^import /m.test(s.code) ? s.code : `${s.code}\nexport {};\n`);
      return f;
    });
    const tsc = path.join(packageRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    let out = '';
    try {
      execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--allowJs', '--checkJs', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--lib', 'ES2023,DOM', '--types', 'node', '--typeRoots', path.join(packageRoot, 'node_modules', '@types'), '--skipLibCheck', path.join(dir, 'prelude.d.ts'), ...files], { cwd: dir, encoding: 'utf8' });
    } catch (e) {
      out = (e as { stdout: string }).stdout;
    }
    // Errors named by README line: readme-<line>.ts(<l>,<c>) is README line <line> + <l>.
    const errors = out.split('\n').filter(Boolean).map((l) => l.replace(/^readme-(\d+)\.(?:ts|mjs)\((\d+),\d+\)/, (_m, a, b) => `README.md:${Number(a) + Number(b)}`));
    expect(errors).toEqual([]);
  }, 120_000);

  it.skipIf(!existsSync(capture))('the quick start runs as written on a real capture', async () => {
    const quick = all.find((s) => s.lang === 'js' && /\/\/ handler\.mjs/.test(s.code));
    expect(quick, 'the quick start block').toBeDefined();
    const [main, handler] = quick!.code.split(/^\/\/ handler\.mjs.*$/m);
    const app = path.join(dir, 'quick');
    execFileSync('mkdir', ['-p', path.join(app, 'node_modules')]);
    symlinkSync(packageRoot, path.join(app, 'node_modules', 'wirewasm'));
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(path.join(app, 'main.mjs'), main.replace("'trace.pcap'", JSON.stringify(capture)));
    writeFileSync(path.join(app, 'handler.mjs'), handler);
    const stdout = execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' });
    const { records } = readCaptureFile(capture);
    let udp = 0;
    new FrameParser().parse(records, (pkt) => void (pkt.udp && udp++));
    expect(stdout.trim()).toBe(`${records.length} frames, ${udp} UDP`);
  }, 60_000);
});
