// The engine config's `publish` key against a real nats-server: the engine runs the sink itself,
// every record arrives once (values through core NATS, kept frames byte for byte through
// JetStream), `engine.published` has the counts; bad values and an unreachable server are errors
// that name the field or the server.
import { expect, it } from 'vitest';
import { Engine, EngineConfigError } from '../../host/engine/engine.js';
import { syntheticFrames } from '../../host/gen/frames.js';
import { subscribeRecords } from '../../host/publish/consumer.js';
import { RecordCursor, recordValue } from '../../host/publish/framing.js';
import { natsClusterForFile } from '../support/nats-cluster.js';

const flows = new URL('../support/fixtures/engine-flows.mjs', import.meta.url).pathname;
const keepAll = new URL('../../bench/handlers/keep-all.mjs', import.meta.url).pathname;
const nats = natsClusterForFile(1);

it('config.publish (core): the engine publishes every emitted value once; engine.published counts them', async () => {
  const sub = await subscribeRecords({ url: nats().url, subject: 'wirewasm.cfg1.records.>' });
  const engine = new Engine({ frames: syntheticFrames(4000, 40), workers: 2, handler: flows, publish: { url: nats().url, engineId: 'cfg1', statsIntervalMs: 0, onFull: 'block' } });
  await engine.start();
  expect(engine.publisher?.mode).toBe('core');
  const stats = await engine.done;
  const pub = await engine.published!;
  expect(pub).toMatchObject({ records_in: 4000, records_published: 4000, publish_dropped: 0, pending_records: 0 });
  expect(stats.delivered).toBe(4000);
  const per = new Map<number, number>();
  let n = 0;
  for await (const b of sub) {
    for (const r of b.records) per.set(recordValue(r) % 65536, (per.get(recordValue(r) % 65536) ?? 0) + 1);
    n += b.records.length;
    if (n >= 4000) break;
  }
  await sub.close();
  expect(sub.stats.duplicates).toBe(0);
  expect([...per.values()]).toEqual(Array(40).fill(100));
});

it('config.publish (JetStream): kept frames arrive byte for byte, in sequence, each once', async () => {
  const frames = syntheticFrames(3000, 30, 64);
  const engine = new Engine({ frames, workers: 1, handler: keepAll, publish: { url: nats().url, engineId: 'cfg2', stream: 'CFG2', statsIntervalMs: 0, batchBytes: 4096 } });
  await engine.start();
  await engine.done;
  const pub = await engine.published!;
  expect(pub).toMatchObject({ mode: 'jetstream', records_in: 3000, records_published: 3000, publish_dropped: 0, retries: 0 });
  // 4 KiB messages: each holds at most 56 records of 72 bytes, so the frames took many messages.
  expect(pub.messages_published).toBeGreaterThanOrEqual(Math.ceil(3000 / 56));
  const sub = await subscribeRecords({ url: nats().url, subject: 'wirewasm.cfg2.records.>', durable: 'cfg2' });
  let next = 0;
  for await (const b of sub) {
    expect(b.kind).toBe('frame');
    for (const r of b.records) {
      expect(r.seq).toBe(next);
      expect(Buffer.from(r.bytes).equals(frames[next % frames.length])).toBe(true);
      next++;
    }
    if (next >= 3000) break;
  }
  await sub.close();
  expect(next).toBe(3000);
});

it('a bad publish value is an error naming the field; a server that is not there fails start()', async () => {
  const frames = syntheticFrames(16, 1);
  expect(() => new Engine({ frames, publish: { url: '' } })).toThrow(EngineConfigError);
  expect(() => new Engine({ frames, publish: { url: '' } })).toThrow(/publish\.url: give the NATS server/);
  expect(() => new Engine({ frames, publish: { url: nats().url, onFull: 'wait' as 'drop' } })).toThrow(/publish\.onFull: "wait" is not 'block' or 'drop'/);
  expect(() => new Engine({ frames, publish: { url: nats().url, batchBytes: 10 } })).toThrow(/publish\.batchBytes: 10 is out of range/);
  expect(() => new Engine({ frames, publish: { url: nats().url, subject: 'a.b*' } })).toThrow(/publish\.subject.*"b\*": must be one NATS subject token/);
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  const engine = new Engine({ frames, publish: { url: 'nats://127.0.0.1:1' } });
  await expect(engine.start()).rejects.toThrow(/cannot reach NATS at .*127\.0\.0\.1:1/);
});

it('a paced trickle goes out in messages of many records (not one per worker hand-over), the last records too', async () => {
  // 20 k records/s for 1 s: the worker hands a few records over every ~60-100 µs; it wakes the sink
  // at most once per recordsWakeUs (host/engine/reader-wake.ts), so the sink publishes about
  // one message per 0.5 ms however often records are handed over. Every record arrives once, the
  // ones handed over last (while the engine stopped) too.
  const emitTime = new URL('../../bench/handlers/emit-time.mjs', import.meta.url).pathname;
  const sub = await subscribeRecords({ url: nats().url, subject: 'wirewasm.trickle.records.>' });
  const engine = new Engine({ frames: syntheticFrames(20_000, 20), workers: 1, handler: emitTime, replay: { rate: 20_000 }, recordsWakeUs: 500, publish: { url: nats().url, engineId: 'trickle', statsIntervalMs: 0 } });
  await engine.start();
  // Every snapshot accounts for each record taken.
  let snapshots = 0;
  const unbalanced: string[] = [];
  const sampler = setInterval(() => {
    const s = engine.publisher!.stats();
    snapshots++;
    const sum = s.records_published + s.publish_dropped + s.pending_records;
    if (sum !== s.records_in) unbalanced.push(`records_in ${s.records_in} vs ${sum}`);
  }, 1);
  await engine.done;
  const pub = await engine.published!;
  clearInterval(sampler);
  expect(unbalanced).toEqual([]);
  expect(snapshots).toBeGreaterThan(100);
  expect(pub).toMatchObject({ records_in: 20_000, records_published: 20_000, publish_dropped: 0 });
  // A message per hand-over would be 3.7 k or more (5 records each or fewer); one per 0.5 ms is ~2 k.
  expect(pub.messages_published).toBeLessThan(2500);
  // And records do not wait much past the 0.5 ms: a message per 1 ms at the least, and none waits
  // anywhere near the reader's 100 ms safety net between its emit() and the sink taking it.
  expect(pub.messages_published).toBeGreaterThan(1000);
  let n = 0;
  let longestUs = 0;
  const c = new RecordCursor();
  for await (const b of sub) {
    for (b.cursor(c); c.next(); n++) longestUs = Math.max(longestUs, b.timeNs / 1000 - c.value());
    if (n >= 20_000) break;
  }
  await sub.close();
  expect(n).toBe(20_000);
  expect(longestUs).toBeLessThan(50_000);
  expect(sub.stats.batches).toBe(pub.messages_published);
});
