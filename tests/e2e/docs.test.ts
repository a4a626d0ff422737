// The generated references are current: regenerating docs/api/ (typedoc, from host/index.ts) and
// docs/cli.md (commander) from the code gives exactly the checked-in files. When this fails, run
// `npm run docs` and commit the result.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../host/paths.js';

const files = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();

describe('generated docs', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ww-docs-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('docs/api and docs/cli.md are what `npm run docs` generates from the code now', () => {
    execFileSync(process.execPath, [path.join(packageRoot, 'scripts/docs.mjs'), '--out', out], { cwd: packageRoot, stdio: 'pipe' });
    const docs = path.join(packageRoot, 'docs');
    expect(readFileSync(path.join(out, 'cli.md'), 'utf8')).toBe(readFileSync(path.join(docs, 'cli.md'), 'utf8'));
    const api = files(path.join(out, 'api'));
    expect(api.length).toBeGreaterThan(5);
    expect(files(path.join(docs, 'api'))).toEqual(api);
    for (const f of api) expect(readFileSync(path.join(out, 'api', f), 'utf8'), f).toBe(readFileSync(path.join(docs, 'api', f), 'utf8'));
  }, 180_000);
});
