// The engine's CLI as a user runs it: replay --json prints the stats object the issue specifies,
// errors name the problem, --metrics-port serves Prometheus text while running, npm start's
// command runs the generated capture through 2 workers.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artefact, packageRoot } from '../../host/paths.js';
import { metricsUrl } from '../support/metrics-url.js';
import { writePcap } from '../../host/pcap/index.js';
import { lacks } from '../support/tools.js';

const run = promisify(execFile);
const cli = artefact('dist/host/cli/main.js');
const capture = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump', '802.1D_spanning_tree.pcap');

describe('wirewasm replay / start', () => {
  it('replay --json prints rx_packets, delivered, dropped by reason, latency_ns and queues', async () => {
    const { stdout } = await run(process.execPath, [cli, 'replay', capture, '--workers', '2', '--loops', '10', '--json']);
    const s = JSON.parse(stdout);
    expect(s.rx_packets).toBe(140);
    expect(s.delivered).toBe(140);
    expect(Object.keys(s.dropped).sort()).toEqual(['filtered', 'handler_error', 'kernel', 'parse_error', 'plugin', 'pool_empty', 'ring_full', 'rule_drop']);
    expect(Object.keys(s.latency_ns).sort()).toEqual(['avg', 'max', 'p50', 'p99', 'p999']);
    expect(s.queues).toHaveLength(1);
    expect(s.in_flight).toBe(0);
  });

  it.skipIf(lacks('tshark'))('replay with a drop rule filters exactly the frames tshark selects with the same condition', async () => {
    const file = path.join(path.dirname(capture), 'edns-opts.pcap');
    const expected = (await run('tshark', ['-r', file, '-Y', 'udp.dstport == 53 && !icmp'])).stdout.trim().split('\n').length;
    const { stdout } = await run(process.execPath, [cli, 'replay', file, '--json', '--rule', 'proto udp dport 53 -> drop']);
    const s = JSON.parse(stdout);
    expect(s.dropped.rule_drop).toBe(expected);
    expect(s.delivered + s.dropped.rule_drop).toBe(s.rx_packets);
  });

  it('a damaged capture: the records before the damage replayed, one line naming file, record and byte offset, exit 1', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wwstream-replay-'));
    try {
      const frame = Buffer.from('ffffffffffff00112233445508004500001c0001000040110000c0a80001c0a80002d431003500080000', 'hex');
      const bytes = writePcap(Array.from({ length: 10 }, (_, i) => ({ linktype: 1, timestampNs: BigInt(i) * 1000n, data: frame, wireLength: frame.length })), { linktype: 1 });
      // Record 7 starts after the 24-byte header and six records; its captured length made impossible.
      const at = 24 + 6 * (16 + frame.length);
      new DataView(bytes.buffer, bytes.byteOffset).setUint32(at + 8, 0x7fffffff, true);
      const file = path.join(dir, 'damaged.pcap');
      writeFileSync(file, bytes);
      const r = spawnSync(process.execPath, [cli, 'replay', file, '--json'], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      const s = JSON.parse(r.stdout);
      expect(s.rx_packets).toBe(6);
      expect(s.delivered).toBe(6);
      expect(r.stderr.trim().split('\n')).toEqual([
        `wirewasm: ${file}: record 7: the record claims 2147483647 captured bytes, more than the 262144 any pcap writer produces: the file is corrupt (at byte ${at}); the 6 record(s) before it were replayed`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the problem: a missing file, a bad rule, --rate with --speed', async () => {
    await expect(run(process.execPath, [cli, 'replay', '/nonexistent.pcap'])).rejects.toMatchObject({ stderr: expect.stringMatching(/nonexistent.pcap does not exist; check the path/) });
    await expect(run(process.execPath, [cli, 'replay', capture, '--rule', 'dport 5'])).rejects.toMatchObject({ stderr: expect.stringMatching(/missing "->"/) });
    await expect(run(process.execPath, [cli, 'replay', capture, '--rate', '10', '--speed', '2'])).rejects.toMatchObject({ stderr: expect.stringMatching(/cannot be used with option/) });
  });

  it('start serves Prometheus metrics while it runs, then prints the final JSON', async () => {
    const p = spawn(process.execPath, [cli, 'start', '--duration', '2', '--metrics-port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    p.stdout.on('data', (d) => (stdout += d));
    const url = await metricsUrl(p);
    await new Promise((r) => setTimeout(r, 500));
    const text = await (await fetch(url)).text();
    expect(text).toMatch(/^wirewasm_rx_packets_total\{queue="0"\} [1-9]\d*$/m);
    expect(text).toMatch(/wirewasm_dropped_total\{reason="ring_full"\} 0/);
    expect(text).toMatch(/^wirewasm_latency_seconds_count [1-9]\d*$/m);
    await new Promise((r) => p.on('exit', r));
    const s = JSON.parse(stdout);
    expect(s.rx_packets).toBeGreaterThan(0);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.workers).toHaveLength(2);
    expect(s.pool.in_use).toBe(0);
  });
});
