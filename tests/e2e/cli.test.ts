import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeLayout } from '../../host/layout.js';
import { loadNative } from '../../host/native.js';
import { artefact } from '../../host/paths.js';

const cli = artefact('dist/host/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('wirewasm CLI', () => {
  it('--version prints the package version', async () => {
    const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
    expect(run('--version').stdout.trim()).toBe(pkg.version);
  });

  it('runs as a new user types it: npx wirewasm', () => {
    // A user's shell PATH, not the test runner's (which puts node_modules/.bin first, where
    // as-pect's dependencies leave an old npx).
    const PATH = (process.env.PATH ?? '').split(':').filter((d) => !d.includes('node_modules')).join(':');
    const r = spawnSync('npx', ['wirewasm', 'info', '--json'], { cwd: artefact('.'), encoding: 'utf8', env: { ...process.env, PATH } });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).layout.totalBytes).toBe(computeLayout().totalBytes);
  });

  it('--help lists info', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/info \[options\]/);
  });

  it('info --json reports the same kernel features the addon probes, and the memory map of a config', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ww-'));
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ queues: 2, frameCount: 256, frameSize: 4096 }));
    const info = JSON.parse(execFileSync(process.execPath, [cli, 'info', '--config', file, '--json'], { encoding: 'utf8' }));
    const probe = loadNative().probeKernel();
    for (const k of ['afXdp', 'afPacket', 'ioUring', 'bpf'] as const) expect(info.features[k].ok).toBe(probe[k].ok);
    const layout = computeLayout({ queues: 2, frameCount: 256, frameSize: 4096 });
    expect(info.layout.totalBytes).toBe(layout.totalBytes);
    const frames = info.layout.regions.find((r: { region: string }) => r.region === 'frames');
    expect(frames).toEqual({ region: 'frames', offset: layout.frames.offset, size: 256 * 4096 });
  });

  it('info prints a readable table', () => {
    const r = run('info');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/AF_XDP sockets\s+(available|unavailable)/);
    expect(r.stdout).toMatch(/frames\s+0x[0-9a-f]{8}\s+8 MiB/);
  });

  it.each([
    [{ frameSize: 3000 }, /frameSize: got 3000; use a power of two/],
    [{ frameCont: 8 }, /unknown key "frameCont"; known keys: queues/],
  ])('info rejects a bad config %j with the reason on stderr and exit 1', (config, message) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ww-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(config));
    const r = run('info', '--config', file);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
  });

  it('info names a missing config file', () => {
    const r = run('info', '--config', '/nonexistent/x.json');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot read the config file \(ENOENT\); check the path/);
  });

  it('an unknown command exits non-zero', () => {
    expect(run('frobnicate').status).not.toBe(0);
  });
});
