// The whole 3-node cluster stopped mid-run (every nats-server by PID) and started again: with
// onFull 'block' the sink holds the engine and loses nothing; with 'drop' it counts exactly what it
// dropped: what the consumer reads back = what the engine handed over - publish_dropped.
import path from 'node:path';
import { expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Engine } from '../../host/engine/engine.js';
import { syntheticFrames } from '../../host/gen/frames.js';
import { PublishSink } from '../../host/publish/sink.js';
import { subscribeRecords } from '../../host/publish/consumer.js';
import { natsClusterAndDirForFile } from '../support/nats-cluster.js';
import { writeFramesPcap } from '../support/capture.js';

const { nats: cluster, dir } = natsClusterAndDirForFile(3, 'wirewasm-outage-');

const keepUdp = new URL('../support/fixtures/engine-keep-udp.mjs', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


it('whole cluster stopped mid-run: block stalls and resumes without loss, drop counts exactly what it dropped', async () => {
  const frames = syntheticFrames(20_000, 64, 96);
  const file = path.join(dir(), 'cap.pcap');
  writeFramesPcap(file, frames);
  const nc = await connect({ servers: cluster().url.split(',') });
  await (await jetstreamManager(nc)).streams.add({ name: 'OUT', subjects: ['out.*.records.>'], num_replicas: 3, duplicate_window: 120e9 });
  await nc.close();

  const modes = ['block', 'drop'] as const;
  // A small window so the outage fills it at once; a records ring that holds the whole run, so
  // holding the engine costs no record (the ring fills instead).
  const sinks = await Promise.all(modes.map((m) => PublishSink.open({ url: cluster().url, engineId: m, stream: 'OUT', subject: `out.${m}.records`, onFull: m, maxPending: 32 << 10, statsIntervalMs: 0 })));
  const engines = modes.map(() => new Engine({ backend: 'pcap', file, workers: 1, handler: keepUdp, replay: { rate: 5000 }, recordsRing: 1 << 15 }));
  await Promise.all(engines.map((e) => e.start()));
  const runs = sinks.map((s, i) => s.run(engines[i]));

  await sleep(1000);
  await cluster().stopAll();
  await sleep(1000); // the window fills
  const before = sinks.map((s) => s.stats().records_in);
  await sleep(1000);
  const after = sinks.map((s) => s.stats().records_in);
  // block: the sink took nothing more while the brokers were gone; drop: it kept taking (and counting).
  expect(after[0]).toBe(before[0]);
  expect(after[1]).toBeGreaterThan(before[1]);
  expect(sinks[1].stats().publish_dropped).toBeGreaterThan(0);
  await cluster().startAll();

  const stats = await Promise.all(engines.map((e) => e.done));
  const pub = await Promise.all(runs);
  for (const [i, s] of stats.entries()) {
    expect(s.delivered).toBe(20_000);
    expect(s.records_dropped).toBe(0);
    expect(pub[i].records_in).toBe(s.delivered);
    expect(pub[i].reconnects).toBeGreaterThanOrEqual(1);
    expect(pub[i].pending_records).toBe(0);
    expect(pub[i].records_published + pub[i].publish_dropped).toBe(pub[i].records_in);
  }
  expect(pub[0].publish_dropped).toBe(0);
  expect(pub[0].blocked_ms).toBeGreaterThan(1000);
  expect(pub[1].publish_dropped).toBeGreaterThan(0);

  // Read the stream back: each engine's records exactly once; drop's are exactly the ones not counted.
  const sub = await subscribeRecords({ url: cluster().url, subject: 'out.*.records.>', durable: 'check' });
  const got = new Map<string, Set<number>>(modes.map((m) => [m, new Set()]));
  let n = 0;
  let dup = 0;
  const want = pub[0].records_published + pub[1].records_published;
  const it = sub[Symbol.asyncIterator]();
  const end = Date.now() + 30_000;
  // One next() at a time: a next() left behind by a timeout would take a batch nobody reads.
  let pending = it.next();
  while (n < want && Date.now() < end) {
    const r = await Promise.race([pending, sleep(500).then(() => undefined)]);
    if (!r) continue;
    if (r.done) break;
    pending = it.next();
    for (const rec of r.value.records) {
      const seen = got.get(r.value.engine)!;
      if (seen.has(rec.seq)) dup++;
      seen.add(rec.seq);
      n++;
    }
  }
  await sub.close();
  await Promise.all(sinks.map((s) => s.close()));
  expect(dup).toBe(0);
  expect(got.get('block')!.size).toBe(20_000);
  expect(got.get('drop')!.size).toBe(20_000 - pub[1].publish_dropped);
  // Sequence numbers are given only to records that were sent: drop's are 0..published-1, no holes.
  expect(Math.max(...got.get('drop')!)).toBe(got.get('drop')!.size - 1);
}, 120_000);
