// `npm start -- --fleet`: the fleet on one machine. A local 3-node nats-server cluster (JetStream,
// an R3 stream), two replay engines (no root needed) each replaying half of a generated capture's
// flows and publishing the UDP frames their handler keeps, one consumer reading every record back,
// and the fleet view (what `wirewasm top` shows) live; at the end the counts must agree.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogUpdate } from 'log-update';
import { jetstreamManager } from '@nats-io/jetstream';
import { Engine } from '../engine/engine.js';
import { CaptureReader, PcapWriter } from '../pcap/index.js';
import { artefact } from '../paths.js';
import { startNatsCluster } from './cluster.js';
import { PublishSink } from './sink.js';
import { subscribeRecords } from './consumer.js';
import { Fleet } from './fleet.js';
import { FLEET_STATS } from './subjects.js';

/** Runs the demo for `seconds`; `capture(file)` writes the capture to split (start.ts demoCapture). */
export async function fleetDemo(seconds: number, capture: (file: string) => void, o: { quiet?: boolean; json?: boolean; rate?: string } = {}): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wirewasm-fleet-'));
  const say = (s: string) => (o.quiet || o.json ? undefined : process.stderr.write(s + '\n'));
  say('starting a 3-node nats-server cluster with JetStream on free loopback ports ...');
  const cluster = await startNatsCluster({ nodes: 3, name: 'wirewasm-demo' });
  try {
    say(`cluster: ${cluster.url}`);
    const all = path.join(dir, 'all.pcap');
    capture(all);
    // Half the flows to each host, by the source port's parity (as ECMP on a switch splits flows).
    // The capture is Ethernet + IPv4 with a 20-byte header, some frames with one VLAN tag.
    const sport = (d: Uint8Array) => {
      const at = 34 + (((d[12] << 8) | d[13]) === 0x8100 ? 4 : 0);
      return (d[at] << 8) | d[at + 1];
    };
    const halves = [0, 1].map((h) => path.join(dir, `host${h}.pcap`));
    const reader = CaptureReader.open(all);
    const writers = halves.map((file) => PcapWriter.open(file, { linktype: 1, nanosecond: true }));
    try {
      for (const r of reader) writers[sport(r.data) % 2].write(r);
    } finally {
      reader.close();
      for (const w of writers) w.close();
    }
    const { connect } = await import('@nats-io/transport-node');
    const nc = await connect({ servers: cluster.url.split(',') });
    await (await jetstreamManager(nc)).streams.add({ name: 'FLEET', subjects: ['wirewasm.*.records.>'], num_replicas: 3, duplicate_window: 120e9 });
    const fleet = new Fleet();
    nc.subscribe(FLEET_STATS, { callback: (_e, m) => fleet.add(m.data) });
    const sub = await subscribeRecords({ url: cluster.url, subject: 'wirewasm.*.records.>', durable: 'demo' });
    const received = new Map<string, number>();
    const reading = (async () => {
      for await (const b of sub) received.set(b.engine, (received.get(b.engine) ?? 0) + b.records.length);
    })();
    const rate = Number(o.rate ?? 20000);
    const hosts = await Promise.all(
      ['fleet-a', 'fleet-b'].map(async (id, i) => {
        const sink = await PublishSink.open({ url: cluster.url, engineId: id, stream: 'FLEET' });
        const engine = new Engine({ backend: 'pcap', file: halves[i], workers: 1, handler: artefact('examples/keep-udp.mjs'), replay: { loops: 0, rate } });
        await engine.start();
        return { id, engine, sink, run: sink.run(engine) };
      }),
    );
    say(`two engines replaying half the flows each at ${rate} pps, publishing kept UDP frames to stream FLEET (R3); one consumer; fleet view:`);
    const update = process.stderr.isTTY && !o.quiet && !o.json ? createLogUpdate(process.stderr) : undefined;
    const view = () => {
      const text = `${fleet.render()}\nconsumer: ${[...received].map(([e, n]) => `${e} ${n}`).join(', ') || 'nothing yet'} records; skipped ${sub.stats.foreign + sub.stats.malformed}`;
      if (update) update(text);
      else say(text + '\n');
    };
    const timer = setInterval(view, 1000);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    clearInterval(timer);
    const stats = await Promise.all(hosts.map((h) => h.engine.stop()));
    const pub = await Promise.all(hosts.map((h) => h.run));
    const want = pub.reduce((s, p) => s + p.records_published, 0);
    const end = Date.now() + 10_000;
    while ([...received.values()].reduce((a, b) => a + b, 0) < want && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    view();
    update?.done();
    await sub.close();
    await reading;
    const summary = hosts.map((h, i) => ({ engine: h.id, delivered: stats[i].delivered, records_dropped: stats[i].records_dropped, published: pub[i].records_published, publish_dropped: pub[i].publish_dropped, received: received.get(h.id) ?? 0 }));
    if (o.json) process.stdout.write(JSON.stringify({ fleet: fleet.json(), hosts: summary, consumer: sub.stats }) + '\n');
    else for (const s of summary) say(`${s.engine}: kept ${s.published + s.publish_dropped} records, published ${s.published}, consumer received ${s.received}${s.received === s.published ? ' (all of them)' : ' (MISMATCH)'}`);
    await Promise.all(hosts.map((h) => h.sink.close()));
    await nc.close();
    if (summary.some((s) => s.received !== s.published)) process.exitCode = 1;
  } finally {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
    say('cluster stopped');
  }
}
