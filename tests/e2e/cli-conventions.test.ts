// The CLI behaves like the tools people know (tcpdump, dumpcap): Ctrl-C and SIGTERM end a run with
// its report and exit 0, leaving no temporary file; -w means a file everywhere (workers are
// --workers), -c counts everywhere.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { artefact, packageRoot } from '../../host/paths.js';
import { writePcap } from '../../host/pcap/index.js';
import { buildFrame } from '../../host/gen/frames.js';

const cli = artefact('dist/host/cli/main.js');
const run = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'wwcc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('CLI conventions', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} ends npm start's run with the --json report, exit 0, and its generated capture removed`, async () => {
      const own = mkdtempSync(path.join(tmp, 'start-'));
      const p = spawn(process.execPath, [cli, 'start', '--duration', '60', '--json', '-q'], { env: { ...process.env, TMPDIR: own }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      // The generated capture exists while the engine runs; give the engine a moment with it.
      const t0 = Date.now();
      while (readdirSync(own).length === 0 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
      expect(readdirSync(own)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 1500));
      p.kill(signal);
      const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
      expect({ code, err }).toEqual({ code: 0, err: '' });
      const report = JSON.parse(out) as { rx_packets: number; delivered: number; elapsed_s: number };
      expect(report.rx_packets).toBeGreaterThan(0);
      expect(report.elapsed_s).toBeLessThan(60);
      expect(readdirSync(own)).toEqual([]);
    }, 60_000);
  }

  it('--records writes every value handlers emit, to a file or to standard output with -', async () => {
    const capture = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump', '802.1D_spanning_tree.pcap');
    const handler = artefact('tests/support/fixtures/engine-count.mjs'); // emits each burst's length
    const file = path.join(tmp, 'records.jsonl');
    const { stdout } = await run(process.execPath, [cli, 'replay', capture, '--handler', handler, '--workers', '2', '--records', file, '--json', '-q']);
    const report = JSON.parse(stdout) as { delivered: number };
    const sum = (text: string) => text.trim().split('\n').reduce((a, l) => a + (JSON.parse(l) as { value: number }).value, 0);
    expect(report.delivered).toBeGreaterThan(0);
    expect(sum(readFileSync(file, 'utf8'))).toBe(report.delivered);
    const piped = await run(process.execPath, [cli, 'replay', capture, '--handler', handler, '--records', '-', '-q']);
    expect(sum(piped.stdout)).toBe(report.delivered);
  });

  it('a handler that throws on every burst fails the run (exit 1) with its first error shown', async () => {
    const capture = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump', '802.1D_spanning_tree.pcap');
    const e = await run(process.execPath, [cli, 'replay', capture, '--handler', artefact('tests/support/fixtures/throw-always.mjs'), '-q']).catch((x) => x as { code: number; stderr: string });
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/the handler threw on every burst .* the first error: no such field: burst.price/);
  });

  it("a handler module's finish() runs once in each worker, after its last burst", async () => {
    const capture = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump', '802.1D_spanning_tree.pcap');
    const dir = mkdtempSync(path.join(tmp, 'finish-'));
    const env = { ...process.env, WIREWASM_TEST_FINISH_DIR: dir };
    const { stdout, stderr } = await run(process.execPath, [cli, 'replay', capture, '--handler', artefact('tests/support/fixtures/finish-count.mjs'), '--workers', '2', '--json', '-q'], { env });
    expect(stderr).toBe(''); // a second finish() in a worker would fail its exclusive write and say so
    expect(readdirSync(dir).sort()).toEqual(['worker-0', 'worker-1']);
    const handled = readdirSync(dir).reduce((a, f) => a + Number(readFileSync(path.join(dir, f), 'utf8')), 0);
    expect(handled).toBe((JSON.parse(stdout) as { delivered: number }).delivered);
  });

  it('--config FILE (the JSON info reads) configures a run; a flag given on the command line wins', async () => {
    const capture = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump', '802.1D_spanning_tree.pcap');
    const conf = path.join(tmp, 'engine.json');
    writeFileSync(conf, JSON.stringify({ workers: 3, frameCount: 1024 }));
    type Report = { workers: unknown[]; pool: { frames: number } };
    const a = JSON.parse((await run(process.execPath, [cli, 'replay', capture, '--config', conf, '--json', '-q'])).stdout) as Report;
    expect({ workers: a.workers.length, frames: a.pool.frames }).toEqual({ workers: 3, frames: 1024 });
    const b = JSON.parse((await run(process.execPath, [cli, 'replay', capture, '--config', conf, '--workers', '2', '--json', '-q'])).stdout) as Report;
    expect({ workers: b.workers.length, frames: b.pool.frames }).toEqual({ workers: 2, frames: 1024 });
    const info = JSON.parse((await run(process.execPath, [cli, 'info', '--config', conf, '--json'])).stdout) as { layout: { config: { frameCount: number } } };
    expect(info.layout.config.frameCount).toBe(1024);
    writeFileSync(conf, JSON.stringify({ scratchBytes: 65536 }));
    const e = await run(process.execPath, [cli, 'replay', capture, '--config', conf]).catch((x) => x as { code: number; stderr: string });
    expect(e.stderr).toMatch(/scratchBytes is for `wirewasm info` only; an engine run takes queues, workers/);
  });

  it('-w on a command that runs the engine is refused with a pointer to --workers', async () => {
    const e = await run(process.execPath, [cli, 'replay', '-w', '2', artefact('package.json')]).catch((x) => x as { code: number; stderr: string });
    expect(e.code).not.toBe(0);
    expect(e.stderr).toMatch(/-w writes a file .* worker threads are --workers 2/);
  });

  // 50 UDP frames, destination ports 1000..1049, so a frame's port says which it was.
  const fifty = () => {
    const file = path.join(tmp, 'fifty.pcap');
    const records = Array.from({ length: 50 }, (_, i) => {
      const data = buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', sport: 999, dport: 1000 + i, length: 64 });
      return { linktype: 1, timestampNs: BigInt(i) * 1000n, data, wireLength: data.length };
    });
    writeFileSync(file, writePcap(records, { linktype: 1 }));
    return file;
  };

  it('dissect -c N prints the first N frames only', async () => {
    const { stdout } = await run(process.execPath, [cli, 'dissect', fifty(), '-c', '7', '--format', 'jsonl']);
    const frames = stdout.trim().split('\n').map((l) => JSON.parse(l) as { n: number; udp: { dport: number } });
    expect(frames.map((f) => [f.n, f.udp.dport])).toEqual(Array.from({ length: 7 }, (_, i) => [i + 1, 1000 + i]));
  });

  it('replay -c N plays the first N frames of the file (of all loops)', async () => {
    const once = JSON.parse((await run(process.execPath, [cli, 'replay', fifty(), '-c', '20', '--json', '-q'])).stdout);
    expect({ rx: once.rx_packets, delivered: once.delivered }).toEqual({ rx: 20, delivered: 20 });
    const looped = JSON.parse((await run(process.execPath, [cli, 'replay', fifty(), '-c', '120', '--loops', '3', '--json', '-q'])).stdout);
    expect(looped.rx_packets).toBe(120);
    const e = await run(process.execPath, [cli, 'replay', fifty(), '-c', 'x']).catch((x) => x as { code: number; stderr: string });
    expect(e.stderr).toMatch(/--count x: give a whole number of frames/);
  }, 60_000);

  it('--help marks required options "(required)" and shows defaults', async () => {
    const { stdout } = await run(process.execPath, [cli, 'capture', '--help']);
    expect(stdout).toMatch(/-i, --iface <name>\s+interface to capture on \(required\)/);
    expect(stdout).toMatch(/-b, --backend <name>\s+afxdp or afpacket \(default: "afpacket"\)/);
    expect(stdout).not.toMatch(/-w, --write <file>.*\(required\)/);
    const gen = (await run(process.execPath, [cli, 'gen', '--help'])).stdout;
    expect(gen).toMatch(/-r, --rate <pps>.*\(required\)/);
  });

  it('gen counts with -c and sizes with --size (-s stays tcpdump\'s snaplen, -n is gone)', async () => {
    const { stdout } = await run(process.execPath, [cli, 'gen', '--help']);
    expect(stdout).toMatch(/-c, --count <n>/);
    expect(stdout).toMatch(/\s--size <bytes>/);
    expect(stdout).not.toMatch(/-n, |-s, /);
    const e = await run(process.execPath, [cli, 'gen', '-i', 'lo', '-r', '1', '--size', '64', '-s', '64']).catch((x) => x as { code: number; stderr: string });
    expect(e.stderr).toMatch(/unknown option '-s'/);
  });
});
