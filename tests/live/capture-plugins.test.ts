// `capture` with parser plugins on a real veth pair in namespaces this test makes: the plugins run
// in their own worker on every burst; what one drops is not written, and is counted. Needs root.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture } from '../../host/capture.js';
import { artefact } from '../../host/paths.js';
import { createTestbed, type Testbed } from '../../host/testbed.js';
import { pluginWat, wat } from '../support/plugins-fixtures.js';

const root = process.getuid?.() === 0;

describe.skipIf(!root)('capture with plugins (needs root)', () => {
  let bed: Testbed;
  beforeAll(() => {
    bed = createTestbed({ prefix: 'wwpl' });
  });
  afterAll(() => bed?.destroy());

  const send = (count: number, port: number) =>
    new Promise<void>((resolve, reject) => {
      const args = ['gen', '--netns', bed.a.ns, '-i', bed.a.iface, '--dst-ip', bed.b.ip, '--rate', '20000', '--size', '128', '--count', String(count), '--port', String(port)];
      const p = spawn(process.execPath, [artefact('dist/host/cli/main.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gen exited ${code}: ${err}`))));
    });

  it('afpacket: frames a plugin drops are not written and are counted; the others are parsed', async () => {
    // Emits the first 4 payload bytes (gen's sequence number) of each packet it passes.
    const seq = await wat(pluginWat({ onPacket: '(call $emit (local.get $ptr) (i32.const 4) (i32.const 1)) (i32.const 0)' }));
    const drop = await wat(pluginWat({ onPacket: '(i32.const 1)' }));
    const stop = new AbortController();
    const run = capture({
      iface: bed.b.iface,
      netns: bed.b.ns,
      durationS: 20,
      signal: stop.signal,
      keepRecords: true,
      plugins: [
        { name: 'seq', bytes: seq, route: { port: 9000 } },
        { name: 'drop', bytes: drop, route: { port: 7777 } },
      ],
    });
    await new Promise((r) => setTimeout(r, 300));
    await send(300, 9000);
    await send(200, 7777);
    await new Promise((r) => setTimeout(r, 300));
    stop.abort();
    const r = await run;
    const ours = r.records.filter((x) => x.data[12] === 0x08 && x.data[23] === 17); // IPv4/UDP: the generator's
    expect(ours.map((x) => (x.data[36] << 8) | x.data[37]).every((p) => p === 9000)).toBe(true);
    expect(ours).toHaveLength(300);
    expect(r.pluginDropped).toBe(200);
    const stats = Object.fromEntries(r.plugins.map((p) => [p.name, p]));
    expect(stats.seq).toMatchObject({ state: 'running', packets: 300, records: 300, traps: 0 });
    expect(stats.drop).toMatchObject({ state: 'running', packets: 200, drops: 200 });
  });
});
