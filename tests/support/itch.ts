// Runs the shipped `itch` / `soupbintcp-itch` plugins on byte arrays and collects what they emit;
// generated markets cut into MoldUDP64 packets.
import { DirectPlugin, shippedPlugin } from '../../host/feed/direct.js';
import { ItchGenerator, moldPacket, sessionName } from '../../host/feed/generator.js';
import {
  forEachRecord, ITCH_COUNTERS as C, readControl, readRecord, RECORD_KIND, StreamDigest, type ControlRecord, type DecodedMessage, type ItchMessage,
} from '../../host/feed/itch.js';

export const S = sessionName('WWTEST0001');

export function harness(name = 'itch') {
  const records: DecodedMessage[] = [];
  const controls: ControlRecord[] = [];
  const digest = new StreamDigest();
  const plugin = new DirectPlugin(shippedPlugin(name), {
    onRecord: (kind, bytes) => {
      if (kind === RECORD_KIND.MESSAGES) {
        digest.addBatch(bytes);
        forEachRecord(bytes, (off) => records.push(readRecord(bytes, off)));
      } else controls.push(readControl(kind, bytes.slice()));
    },
  });
  return { plugin, records, controls, digest, c: (k: keyof typeof C) => plugin.counters[C[k]] };
}

export function generate(n: number, seed = 7): ItchMessage[] {
  const g = new ItchGenerator(seed);
  return Array.from({ length: n }, (_, i) => g.next(34_200_000_000_000n + BigInt(i) * 1000n));
}

export function packets(msgs: ItchMessage[], perPacket: number, first = 1n, session = S) {
  const out: { bytes: Uint8Array; seq: bigint; count: number }[] = [];
  for (let i = 0; i < msgs.length; i += perPacket) {
    const chunk = msgs.slice(i, i + perPacket);
    out.push({ bytes: moldPacket(session, first + BigInt(i), chunk), seq: first + BigInt(i), count: chunk.length });
  }
  return out;
}
