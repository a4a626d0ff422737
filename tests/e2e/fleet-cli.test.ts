// The CLI side of the fleet, as a user runs it: `replay --publish` into a real nats-server,
// `sub --jsonl` printing one line per record ((engine, queue, seq) unique, bytes = the frame),
// `top --json` seeing the engine's stats snapshots, and a clear error for a server that is not there.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { syntheticFrames } from '../../host/gen/frames.js';
import { freePort } from '../../host/publish/cluster.js';
import { natsClusterAndDirForFile } from '../support/nats-cluster.js';
import { writeFramesPcap } from '../support/capture.js';

const { nats, dir } = natsClusterAndDirForFile(1, 'wirewasm-fleet-cli-');

const cli = new URL('../../dist/host/cli/main.js', import.meta.url).pathname;
const keepUdp = new URL('../support/fixtures/engine-keep-udp.mjs', import.meta.url).pathname;

function run(args: string[], onStderr?: (s: string) => void) {
  const p = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => {
    err += d;
    onStderr?.(err);
  });
  const done = new Promise<{ code: number | null; out: string; err: string }>((r) => p.on('exit', (code) => r({ code, out, err })));
  return { p, done };
}


it('replay --publish, sub --jsonl and top --json agree on every record', async () => {
  const frames = syntheticFrames(3000, 16, 80);
  const file = path.join(dir(), 'c.pcap');
  writeFramesPcap(file, frames);
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  const sub = run(['sub', '--nats', nats().url, 'wirewasm.*.records.>', '--jsonl', '--count', '3000'], (e) => e.includes('listening') && listening());
  await ready;
  // 3000 frames at 1500/s: two seconds, so top hears at least one stats snapshot.
  const replay = run(['replay', file, '--handler', keepUdp, '--publish', nats().url, '--engine-id', 'cli-a', '--rate', '1500', '--json', '-q']);
  const top = run(['top', '--nats', nats().url, '--json', '--wait', '1800']);
  const [r, s, t] = await Promise.all([replay.done, sub.done, top.done]);
  expect(r.code, r.err).toBe(0);
  const stats = JSON.parse(r.out);
  expect(stats.delivered).toBe(3000);
  expect(stats.publish).toMatchObject({ engine: 'cli-a', mode: 'core', records_in: 3000, records_published: 3000, publish_dropped: 0 });
  expect(s.code, s.err).toBe(0);
  const lines = s.out.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.length).toBe(3000);
  expect(new Set(lines.map((l) => `${l.engine}/${l.queue}/${l.seq}`)).size).toBe(3000);
  expect(Object.keys(lines[0]).sort()).toEqual(['bytes', 'engine', 'kind', 'queue', 'seq']);
  expect(lines.every((l, i) => l.engine === 'cli-a' && l.kind === 'frame' && l.seq === i && l.bytes === Buffer.from(frames[i]).toString('hex'))).toBe(true);
  expect(t.code, t.err).toBe(0);
  const fleet = JSON.parse(t.out);
  const me = fleet.engines.find((e: { engine: string }) => e.engine === 'cli-a');
  expect(me).toBeDefined();
  expect(me.rx_packets).toBeGreaterThan(0);
  expect(me.publish.mode).toBe('core');
  expect(me.dropped).toHaveProperty('publish_dropped');
}, 60_000);

it('a NATS server that is not there: exit 1 and a message naming it', async () => {
  const port = await freePort();
  const file = path.join(dir(), 'c.pcap');
  const r = await run(['replay', file, '--publish', `nats://127.0.0.1:${port}`, '-q']).done;
  expect(r.code).toBe(1);
  expect(r.err).toContain(`cannot reach NATS at nats://127.0.0.1:${port}`);
  const bad = await run(['replay', file, '--publish', nats().url, '--engine-id', 'a.b', '-q']).done;
  expect(bad.code).toBe(1);
  expect(bad.err).toMatch(/engine id "a.b": must be one NATS subject token/);
}, 60_000);

it('start --fleet: its own 3-node cluster, two engines, one consumer that gets every published record, then everything stopped', async () => {
  const r = await run(['start', '--fleet', '--duration', '2', '--json']).done;
  expect(r.code, r.err).toBe(0);
  const out = JSON.parse(r.out);
  expect(out.hosts.map((h: { engine: string }) => h.engine)).toEqual(['fleet-a', 'fleet-b']);
  for (const h of out.hosts) {
    expect(h.published).toBeGreaterThan(0);
    expect(h.received).toBe(h.published);
    expect(h.publish_dropped).toBe(0);
  }
  expect(out.fleet.engines.map((e: { engine: string }) => e.engine)).toEqual(['fleet-a', 'fleet-b']);
  expect(out.consumer).toMatchObject({ foreign: 0, malformed: 0, duplicates: 0 });
}, 120_000);
