import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../host/engine/engine.js';
import { engineSizes } from '../../host/engine/config.js';
import { computeLayout } from '../../host/layout.js';
import { writePcap } from '../../host/pcap/index.js';
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
    expect(JSON.parse(r.stdout).layout.totalBytes).toBe(computeLayout(engineSizes({})).totalBytes);
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
    const layout = computeLayout(engineSizes({ queues: 2, frameCount: 256, frameSize: 4096 }));
    expect(info.layout.totalBytes).toBe(layout.totalBytes);
    const frames = info.layout.regions.find((r: { region: string }) => r.region === 'frames');
    expect(frames).toEqual({ region: 'frames', offset: layout.frames.offset, size: 256 * 4096 });
  });

  it("info's memory map uses the sizes an engine run would: the engine's defaults where the config is silent", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ww-'));
    const pcap = path.join(dir, 'one.pcap');
    writeFileSync(pcap, writePcap([{ linktype: 1, timestampNs: 0n, data: new Uint8Array(60), wireLength: 60 }], { linktype: 1 }));
    const sizes = (c: { queues: number; workers: number; frameCount: number; frameSize: number; ringSize: number }) => ({ queues: c.queues, workers: c.workers, frameCount: c.frameCount, frameSize: c.frameSize, ringSize: c.ringSize });
    for (const file of [undefined, { workers: 2, frameCount: 1024 }, { ringSize: 512 }]) {
      const args = ['info', '--json'];
      if (file) {
        const f = path.join(dir, 'c.json');
        writeFileSync(f, JSON.stringify(file));
        args.push('--config', f);
      }
      const info = JSON.parse(execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8' }));
      expect(sizes(info.layout.config)).toEqual(sizes(new Engine({ file: pcap, ...file }).config));
    }
  });

  it('info prints a readable table', () => {
    const r = run('info');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/AF_XDP sockets\s+(available|unavailable)/);
    // The engine's default pool: frameCount × frameSize bytes.
    const { frameCount, frameSize } = engineSizes({});
    expect(r.stdout).toMatch(new RegExp(`frames\\s+0x[0-9a-f]{8}\\s+${(frameCount * frameSize) >> 20} MiB`));
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
