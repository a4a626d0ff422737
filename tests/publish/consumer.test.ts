// The consumer against a real nats-server: an engine's records through core NATS come out decoded
// and complete, while a foreign and a malformed message on the same subject are counted and
// skipped; the sink's counters scrape as valid Prometheus metrics; a JetStream subscription reads
// a named stream without a durable, and one to a subject no stream holds fails at once.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import client from 'prom-client';
import { connect } from '@nats-io/transport-node';
import { Engine } from '../../host/engine/engine.js';
import { syntheticFrames } from '../../host/gen/frames.js';
import { PublishSink } from '../../host/publish/sink.js';
import { subscribeRecords } from '../../host/publish/consumer.js';
import { recordValue } from '../../host/publish/framing.js';
import { subjectWithin } from '../../host/publish/subjects.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { registerPublishMetrics } from '../../host/publish/metrics.js';
import { natsClusterForFile } from '../support/nats-cluster.js';

const flows = new URL('../support/fixtures/engine-flows.mjs', import.meta.url).pathname;
const nats = natsClusterForFile(1);

it('counts and skips a foreign and a malformed message, and delivers every record of the engine', async () => {
  const sub = await subscribeRecords({ url: nats().url, subject: 'wirewasm.*.records.>' });
  const sink = await PublishSink.open({ url: nats().url, engineId: 'core1', statsIntervalMs: 0 });
  // Interlopers on the subscribed subject, ahead of the engine's records: JSON from someone else, and a records message cut short.
  const nc = await connect({ servers: nats().url });
  nc.publish('wirewasm.other.records.value', new TextEncoder().encode('{"not":"ours","padding":"...................."}'));
  const cut = new Uint8Array(48);
  cut.set([0x57, 0x57, 0x52, 0x31, 1, 1, 0, 0, 5, 0, 0, 0], 0); // 5 records announced, the bytes end inside the second
  cut[32] = 0x78;
  nc.publish('wirewasm.other.records.value', cut);
  await nc.flush();
  await nc.close();
  const engine = new Engine({ frames: syntheticFrames(3000, 30), workers: 2, handler: flows });
  await engine.start();
  const run = sink.run(engine);
  const stats = await engine.done;
  const pub = await run;
  expect(pub.records_published).toBe(stats.delivered);
  const values: number[] = [];
  for await (const b of sub) {
    expect(b.engine).toBe('core1');
    for (const r of b.records) values.push(recordValue(r));
    if (values.length >= stats.delivered) break;
  }
  await sub.close();
  expect(values.length).toBe(3000);
  expect(sub.stats.foreign).toBe(1);
  expect(sub.stats.malformed).toBe(1);
  expect(sub.stats.last_error).toMatch(/record 1 of 5: header past the end/);
  // engine-flows emits each frame's source port: 100 frames for each of the 30 flows.
  const per = new Map<number, number>();
  for (const v of values) per.set(v % 65536, (per.get(v % 65536) ?? 0) + 1);
  expect([...per.values()]).toEqual(Array(30).fill(100));

  const registry = new client.Registry();
  registerPublishMetrics(registry, () => sink.stats());
  const text = await registry.metrics();
  expect(text).toContain(`wirewasm_publish_published_total{engine="core1"} ${stats.delivered}`);
  expect(text).toContain('wirewasm_publish_dropped_total{engine="core1"} 0');
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text });
  if (promtool.error) console.warn('promtool not installed: exposition format not checked');
  else expect(promtool.status, promtool.stderr.toString()).toBe(0);
  await sink.close();
});

it('frames handed over from JS memory (what capture publishes) arrive as frame records, through JetStream', async () => {
  const sink = await PublishSink.open({ url: nats().url, engineId: 'cap1', stream: 'CAP', statsIntervalMs: 0 });
  const frames = [new Uint8Array([1, 2, 3]), new Uint8Array(1500).fill(7), new Uint8Array(60).fill(9)];
  sink.takeFrames(frames.map((data, i) => ({ data, linktype: i === 2 ? 113 : 1 })), 2);
  const pub = await sink.close();
  expect(pub).toMatchObject({ mode: 'jetstream', records_in: 3, records_published: 3, publish_dropped: 0 });
  const sub = await subscribeRecords({ url: nats().url, subject: 'wirewasm.cap1.records.>', durable: 'cap' });
  for await (const b of sub) {
    expect(b).toMatchObject({ engine: 'cap1', queue: 2, kind: 'frame', seq: 0 });
    expect(b.records.map((r) => r.type)).toEqual([1, 1, 113]);
    expect(b.records.map((r) => Buffer.from(r.bytes))).toEqual(frames.map((f) => Buffer.from(f)));
    break;
  }
  await sub.close();
  // The same stream named, without a durable: an ordered consumer from the start.
  const named = await subscribeRecords({ url: nats().url, subject: 'wirewasm.cap1.records.frame', stream: 'CAP' });
  for await (const b of named) {
    expect(b).toMatchObject({ engine: 'cap1', queue: 2, kind: 'frame', seq: 0 });
    expect(b.records.length).toBe(3);
    break;
  }
  await named.close();
});

it('a JetStream subscription to a subject no stream holds fails at once, in one line naming the subject and the fix', async () => {
  const nc = await connect({ servers: nats().url });
  await (await jetstreamManager(nc)).streams.add({ name: 'OTHER', subjects: ['other.records.>'] });
  await nc.close();
  const fix = 'create a stream holding it \\(e.g. publish with --publish-stream NAME\\) or subscribe without --durable/--stream \\(core NATS\\)$';
  const t0 = performance.now();
  await expect(subscribeRecords({ url: nats().url, subject: 'nobody.records.>', durable: 'none' })).rejects.toThrow(new RegExp(`^no JetStream stream holds "nobody.records.>": ${fix}`));
  // A stream that holds only part of a wildcard: a consumer there would never see the rest.
  await expect(subscribeRecords({ url: nats().url, subject: 'other.*.>', durable: 'part' })).rejects.toThrow(new RegExp(`does not hold all of "other\\.\\*\\.>": ${fix}`));
  await expect(subscribeRecords({ url: nats().url, subject: 'nobody.>', stream: 'OTHER' })).rejects.toThrow(new RegExp(`^JetStream stream "OTHER" \\(subjects other.records.>\\) does not hold all of "nobody.>": ${fix}`));
  await expect(subscribeRecords({ url: nats().url, subject: 'nobody.>', stream: 'MISSING', durable: 'm' })).rejects.toThrow(new RegExp(`^JetStream stream "MISSING" does not exist \\(asked for "nobody.>"\\): ${fix}`));
  expect(performance.now() - t0).toBeLessThan(5000);
});

it('subjectWithin: a subject is within a pattern when every subject it matches, the pattern matches', () => {
  expect(subjectWithin('a.b.c', 'a.b.c')).toBe(true);
  expect(subjectWithin('a.b.c', 'a.*.c')).toBe(true);
  expect(subjectWithin('a.b.c', 'a.>')).toBe(true);
  expect(subjectWithin('a.*.c', 'a.>')).toBe(true);
  expect(subjectWithin('a.>', 'a.>')).toBe(true);
  expect(subjectWithin('a.>', 'a.*')).toBe(false);
  expect(subjectWithin('a.*', 'a.b')).toBe(false);
  expect(subjectWithin('a', 'a.>')).toBe(false);
  expect(subjectWithin('a.b', 'a.b.c')).toBe(false);
  expect(subjectWithin('a.b.c', 'a.b')).toBe(false);
  expect(subjectWithin('other.*', 'other.records.>')).toBe(false);
});
