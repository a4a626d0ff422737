// Resources a test file makes once for all its tests and removes afterwards, also when a test fails.
// Each returns a getter: the resource exists only once beforeAll has run, inside the tests.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createTestbed, type Testbed, type TestbedOptions } from '../../host/testbed.js';

/** A temporary directory under os.tmpdir() named `prefix…`. */
export function tempDirForFile(prefix: string): () => string {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

/** Two test hosts in namespaces of their own (host/testbed.ts) and a temporary directory, both named by `prefix`. */
export function testbedAndDirForFile(prefix: string, options: TestbedOptions = {}): { bed: () => Testbed; dir: () => string } {
  let bed: Testbed | undefined;
  beforeAll(() => {
    bed = createTestbed({ ...options, prefix });
  });
  afterAll(() => bed?.destroy());
  return { bed: () => bed!, dir: tempDirForFile(`${prefix}-`) };
}

/** Runs one test on a testbed of its own, removed afterwards whatever happens. */
export async function onTestbed<T>(options: TestbedOptions, test: (bed: Testbed) => Promise<T>): Promise<T> {
  const bed = createTestbed(options);
  try {
    return await test(bed);
  } finally {
    bed.destroy();
  }
}
