// The skip helper: a missing tool yields one line naming the tool and the Debian package, and every
// package it names is one `npm run setup:system` installs.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../host/paths.js';
import { missingTools, TOOL_PACKAGES } from './tools.js';

describe('tests/support/tools', () => {
  it('names the missing tool and its package in one line', () => {
    const PATH = process.env.PATH;
    process.env.PATH = mkdtempSync(path.join(os.tmpdir(), 'ww-path-')); // a PATH with no tool on it
    let why: string | undefined;
    try {
      why = missingTools('tshark', 'promtool');
    } finally {
      process.env.PATH = PATH;
    }
    expect(why).toBe('skipped: tshark, promtool not found — apt-get install tshark prometheus (or npm run setup:system)');
  });
  it('setup:system installs every package a test may ask for', () => {
    const script = readFileSync(path.join(packageRoot, 'scripts/setup-system.mjs'), 'utf8');
    for (const pkg of new Set(Object.values(TOOL_PACKAGES))) expect(script, pkg).toMatch(new RegExp(`^\\s+'?${pkg}'?: '`, 'm'));
  });
});
