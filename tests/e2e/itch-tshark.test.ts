// Differential test against a dissector no one here wrote: tshark's MoldUDP64 dissector frames the
// simulator's capture (feed-sim -w) into messages; the itch plugin decodes the same capture. Each
// decoded record, encoded back to the wire, must be the very bytes tshark found at that sequence
// number, and tshark must see the same packets, counts and end-of-session markers.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectPlugin, shippedPlugin } from '../../host/feed/direct.js';
import { encodeMessage, forEachRecord, ITCH_BY_TYPE, readRecord, RECORD_KIND, type DecodedMessage } from '../../host/feed/itch.js';
import { packageRoot } from '../../host/paths.js';
import { readCaptureFile } from '../../host/pcap/index.js';

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
const cli = path.join(packageRoot, 'dist', 'host', 'cli', 'main.js');

describe.skipIf(!hasTshark)('itch plugin vs tshark (apt-get install tshark)', () => {
  it("decodes the simulator's capture to the bytes tshark frames at every sequence number", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wwitch-'));
    const file = path.join(dir, 'sim.pcapng');
    const port = 27950 + (process.pid % 40);
    try {
      // Nobody listens: the capture is what matters. 3000 messages, every 5th packet skipped.
      execFileSync(process.execPath, [cli, 'feed-sim', '--transport', 'udp', '--port', String(port), '--rate', '30000', '--duration', '0.1', '--drop-every', '5', '--messages-per-packet', '6', '-w', file, '--json']);
      const out = execFileSync('tshark', ['-r', file, '-d', `udp.port==${port},moldudp64`, '-T', 'fields', '-E', 'separator=;', '-e', 'moldudp64.sequence', '-e', 'moldudp64.count', '-e', 'moldudp64.msgseq', '-e', 'moldudp64.msgdata'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const theirs = new Map<bigint, string>();
      let eos = 0;
      let packets = 0;
      for (const line of out.trim().split('\n')) {
        const [, count, seqs, datas] = line.split(';');
        packets++;
        if (count === '65535') eos++;
        if (!seqs) continue;
        const d = datas.split(',');
        seqs.split(',').forEach((q, i) => theirs.set(BigInt(q), d[i]));
      }
      const records: DecodedMessage[] = [];
      const plugin = new DirectPlugin(shippedPlugin('itch'), {
        onRecord: (kind, bytes) => kind === RECORD_KIND.MESSAGES && forEachRecord(bytes, (off) => records.push(readRecord(bytes, off))),
      });
      const { records: frames } = readCaptureFile(file);
      plugin.process(frames.map((f) => ({ bytes: f.data.subarray(42), timestampNs: f.timestampNs })));
      expect(packets).toBe(frames.length);
      expect(eos).toBe(3);
      expect(records.length).toBe(theirs.size);
      expect(records.length).toBeGreaterThan(2000);
      for (const r of records) {
        const wire = new Uint8Array(ITCH_BY_TYPE.get(r.type)!.size);
        encodeMessage(wire, 0, r);
        expect(Buffer.from(wire).toString('hex'), `sequence ${r.sequence}`).toBe(theirs.get(r.sequence));
      }
      expect(plugin.counters[2]).toBe(3000 - records.length); // gap messages: exactly the skipped ones
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
