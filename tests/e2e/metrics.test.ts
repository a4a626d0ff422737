// The Prometheus endpoint, checked by Prometheus' own linter: `promtool check metrics` reads a real
// scrape of a running replay and must report nothing (counters named *_total, base units, histogram
// series complete). And the histogram in seconds agrees with the engine's own count.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { histBucketLow } from '../../host/engine/stats.js';
import { cumulativeBuckets, LATENCY_LE_NS } from '../../host/metrics.js';
import { artefact, packageRoot } from '../../host/paths.js';
import { metricsUrl } from '../support/metrics-url.js';
import { lacks } from '../support/tools.js';

const cli = artefact('dist/host/cli/main.js');
const capture = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump', '802.1D_spanning_tree.pcap');

/** Runs a replay that loops until stopped, serving metrics; returns the URL and a stop function. */
async function replayWithMetrics(extra: string[] = []) {
  const p = spawn(process.execPath, [cli, 'replay', capture, '--loops', '0', '--rate', '20000', '--metrics-port', '0', '-q', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await metricsUrl(p);
  return { url, stop: () => new Promise((r) => (p.once('exit', r), p.kill('SIGINT'))) };
}

describe('Prometheus metrics', () => {
  it.skipIf(lacks('promtool'))('promtool check metrics reports nothing on a scrape of a running replay', async () => {
    const r = await replayWithMetrics();
    try {
      await new Promise((res) => setTimeout(res, 1000));
      const text = await (await fetch(r.url)).text();
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(lint.stdout + lint.stderr).toBe('');
      expect(lint.status).toBe(0);
      // The scrape is of a run that moved: counters, the seconds histogram and the process metrics.
      expect(text).toMatch(/^# TYPE wirewasm_rx_packets_total counter$/m);
      expect(text).toMatch(/^wirewasm_rx_packets_total\{queue="0"\} [1-9]\d*$/m);
      expect(text).toMatch(/^# TYPE wirewasm_latency_seconds histogram$/m);
      expect(text).toMatch(/^wirewasm_latency_seconds_count [1-9]\d*$/m);
      expect(text).toMatch(/^wirewasm_latency_seconds_bucket\{le="\+Inf"\} [1-9]\d*$/m);
      expect(text).toMatch(/^process_cpu_seconds_total \d/m);
      expect(text).not.toMatch(/quantile="max"|_ns\b/);
    } finally {
      await r.stop();
    }
  }, 60_000);

  it('--metrics-host chooses the address; the default is loopback only', async () => {
    const def = await replayWithMetrics();
    await def.stop();
    expect(new URL(def.url).hostname).toBe('127.0.0.1');
    const v6 = await replayWithMetrics(['--metrics-host', '::1']);
    try {
      expect(new URL(v6.url).hostname).toBe('[::1]');
      expect((await fetch(v6.url)).status).toBe(200);
    } finally {
      await v6.stop();
    }
  }, 60_000);

  it('histogram buckets are cumulative and exact at power-of-two bounds', () => {
    const hist = new Float64Array(1024);
    // One sample in the engine bucket starting at each of these ns values.
    const at = [0, 100, 127, 128, 1000, 4096, 1e6];
    const bucketOf = (ns: number) => {
      let b = 0;
      while (histBucketLow(b + 1) <= ns) b++;
      return b;
    };
    for (const ns of at) hist[bucketOf(ns)]++;
    const cum = cumulativeBuckets(hist);
    LATENCY_LE_NS.forEach((le, i) => expect(cum[i], `le ${le} ns`).toBe(at.filter((ns) => ns < le).length));
  });
});
