// What a user gets from `import ... from 'wirewasm'`: package.json "main" must resolve to the
// built public API, and "types" to its declarations.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../host/paths.js';

const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { main: string; types: string; bin: Record<string, string> };

describe('package entry points', () => {
  it('"main" loads and exports the engine, backends, plugins, captures and layout', async () => {
    const api = await import(pathToFileURL(path.join(packageRoot, pkg.main)).href);
    for (const name of ['Engine', 'Packet', 'openBackend', 'loadPlugin', 'readCaptureFile', 'writePcapng', 'computeLayout', 'createTestbed'])
      expect(typeof api[name], name).toBe('function');
  });
  it('"types" and every "bin" exist after the build', () => {
    expect(existsSync(path.join(packageRoot, pkg.types))).toBe(true);
    for (const file of Object.values(pkg.bin)) expect(existsSync(path.join(packageRoot, file))).toBe(true);
  });
});
