// Two engines ("hosts") each replay half of a capture's flows and publish what their handler keeps
// into a real 3-node nats-server cluster (JetStream, an R3 stream); one consumer reads it back.
// Checked: every record arrives exactly once, in each host's order, byte for byte the frame its
// engine kept, through the kill of a node (by PID) and a stop of the whole cluster (block holds the
// engine and loses nothing; drop counts exactly what it dropped).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Engine } from '../../host/engine/engine.js';
import { syntheticFrames } from '../../host/gen/frames.js';
import { PublishSink, type PublishConfig, type PublishStats } from '../../host/publish/sink.js';
import { subscribeRecords, type RecordSubscription } from '../../host/publish/consumer.js';
import { natsClusterAndDirForFile } from '../support/nats-cluster.js';
import { writeFramesPcap } from '../support/capture.js';

const { nats: cluster, dir } = natsClusterAndDirForFile(3, 'wirewasm-fleet-');

const keepUdp = new URL('../support/fixtures/engine-keep-udp.mjs', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let streams = 0;

/** A capture of `n` frames over 64 flows, split by flow into two files: what each host replays. */
function halves(n: number): { files: string[]; frames: Uint8Array[][] } {
  const all = syntheticFrames(n, 64, 96);
  const frames: Uint8Array[][] = [[], []];
  // Flow k (source port 1024 + k) goes to host k % 2.
  for (const f of all) frames[((f[34] << 8) | f[35]) % 2].push(f);
  const files = frames.map((fs, i) => writeFramesPcap(path.join(dir(), `half${i}-${n}.pcap`), fs));
  return { files, frames };
}

/** A fresh R3 stream for the records of every engine; returns its name. */
async function r3Stream(): Promise<string> {
  const name = `WW${++streams}`;
  const nc = await connect({ servers: cluster().url.split(',') });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [`t${streams}.*.records.>`], num_replicas: 3, duplicate_window: 120e9 });
  await nc.close();
  return name;
}

interface Host {
  engine: Engine;
  sink: PublishSink;
  run: Promise<PublishStats>;
}

async function startHost(id: string, file: string, publish: Omit<PublishConfig, 'url'> & { url?: string }, rate?: number, recordsRing?: number): Promise<Host> {
  const sink = await PublishSink.open({ url: cluster().url, engineId: id, statsIntervalMs: 0, ...publish });
  const engine = new Engine({ backend: 'pcap', file, workers: 1, handler: keepUdp, replay: { rate }, recordsRing });
  await engine.start();
  return { engine, sink, run: sink.run(engine) };
}

/** Reads until `want` records arrived (or `ms` passed), checking uniqueness and per-host order as it goes. */
async function collect(sub: RecordSubscription, want: () => number, ms: number) {
  const byHost = new Map<string, Uint8Array[]>();
  const seen = new Set<string>();
  let dup = 0;
  let outOfOrder = 0;
  let notEthernet = 0;
  let n = 0;
  const it = sub[Symbol.asyncIterator]();
  const end = Date.now() + ms;
  // One next() at a time: a next() left behind by a timeout would take a batch nobody reads.
  let pending = it.next();
  while (n < want() && Date.now() < end) {
    const r = await Promise.race([pending, sleep(500).then(() => undefined)]);
    if (!r) continue;
    if (r.done) break;
    pending = it.next();
    const b = r.value;
    const list = byHost.get(b.engine) ?? byHost.set(b.engine, []).get(b.engine)!;
    for (const rec of b.records) {
      const key = `${b.engine}/${b.queue}/${rec.seq}`;
      if (seen.has(key)) dup++;
      seen.add(key);
      if (rec.seq !== list.length) outOfOrder++;
      if (b.kind !== 'frame' || rec.type !== 1) notEthernet++;
      list.push(rec.bytes.slice());
      n++;
    }
  }
  return { byHost, n, dup, outOfOrder, notEthernet };
}

/**
 * Waits for both hosts, then checks: every frame delivered and handed to its sink, every record
 * published, none dropped; and the consumer got each record once, in its host's order, byte for
 * byte its half of the capture.
 */
async function finish(hosts: Host[], sub: RecordSubscription, frames: Uint8Array[][]): Promise<PublishStats[]> {
  const stats = await Promise.all(hosts.map((h) => h.engine.done));
  const pub = await Promise.all(hosts.map((h) => h.run));
  const delivered = stats.reduce((s, x) => s + x.delivered, 0);
  expect(delivered).toBe(frames[0].length + frames[1].length);
  for (const [i, p] of pub.entries()) {
    expect(p.records_in).toBe(stats[i].delivered);
    expect(p.records_published).toBe(p.records_in);
    expect(p.publish_dropped).toBe(0);
  }
  const got = await collect(sub, () => delivered, 40_000);
  await sub.close();
  expect(got.dup).toBe(0);
  expect(sub.stats.duplicates).toBe(0);
  expect(got.outOfOrder).toBe(0);
  expect(got.notEthernet).toBe(0);
  expect(got.n).toBe(delivered);
  for (const [i, h] of hosts.entries()) {
    const recs = got.byHost.get(h.sink.engineId)!;
    expect(recs.length).toBe(frames[i].length);
    expect(recs.every((r, j) => Buffer.compare(r, frames[i][j]) === 0)).toBe(true);
  }
  await Promise.all(hosts.map((h) => h.sink.close()));
  return pub;
}


describe('fleet: two engines into a 3-node JetStream cluster', () => {
  it('one consumer receives every record exactly once, in per-host order, as many as both engines delivered', async () => {
    const { files, frames } = halves(20_000);
    const stream = await r3Stream();
    const sub = await subscribeRecords({ url: cluster().url, subject: `t${streams}.*.records.>`, durable: 'all' });
    // A records ring that holds the whole half: an unpaced replay outruns any publisher for a moment.
    const hosts = await Promise.all(['hostA', 'hostB'].map((id, i) => startHost(id, files[i], { stream, subject: `t${streams}.${id}.records` }, undefined, 1 << 15)));
    await finish(hosts, sub, frames);
  }, 180_000);

  it('a node killed mid-run (SIGKILL by PID): nothing lost or duplicated, the fail-over shows in the reconnect counters', async () => {
    const { files, frames } = halves(40_000);
    const stream = await r3Stream();
    const sub = await subscribeRecords({ url: cluster().url, subject: `t${streams}.*.records.>`, durable: 'kill' });
    // The victim: the node the consumer reads through. hostA is given only that node's URL (it
    // learns the others from the cluster), so the publisher and the consumer must both fail over.
    const server = sub.server();
    const victim = cluster().nodes.findIndex((n) => server.endsWith(`:${n.port}`));
    expect(victim).toBeGreaterThanOrEqual(0);
    const hosts = await Promise.all(
      ['hostA', 'hostB'].map((id, i) => startHost(id, files[i], { stream, subject: `t${streams}.${id}.records`, url: i === 0 ? `nats://${server}` : cluster().url }, 8000)),
    );
    await sleep(800);
    expect(hosts[0].sink.nc.getServer()).toBe(server);
    await cluster().kill(victim);
    const pub = await finish(hosts, sub, frames);
    expect(pub[0].reconnects).toBeGreaterThanOrEqual(1);
    expect(sub.stats.reconnects).toBeGreaterThanOrEqual(1);
    await cluster().restart(victim);
  }, 180_000);
});
