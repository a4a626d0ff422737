// A/B arbitration in the `itch` plugin: the same MoldUDP64 session on two lines (receive queues 1
// and 2) with independent drops, cuts and delays. First arrival wins, the other copy is a
// duplicate; a gap opens only for what both lines miss, exactly; per-line counters add up.
import { describe, expect, it } from 'vitest';
import { moldControl } from '../../host/feed/generator.js';
import { COUNTER_LINES } from '../../host/feed/itch.js';
import { generate, harness, packets, S } from '../support/itch.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const line = (h: ReturnType<typeof harness>, l: number) => {
  const c = (k: number) => h.plugin.counters[COUNTER_LINES + 4 * (l - 1) + k];
  return { received: c(0), first: c(1), late: c(2), lost: c(3) };
};

describe('itch plugin: A/B line arbitration', () => {
  for (const [name, dropA, dropB] of [['zero gaps when one line always has each message', 0.2, 0], ['gaps exactly where both lines miss', 0.1, 0.1], ['heavy independent loss', 0.4, 0.4]] as const) {
    it(name, () => {
      const h = harness();
      const msgs = generate(40_000, 21);
      const pk = packets(msgs, 8);
      const rand = rng(name.length);
      const onA = pk.map(() => rand() >= dropA);
      const onB = pk.map((_, i) => (dropB === 0 ? true : rand() >= dropB) || (dropA === 0.2 && !onA[i]));
      // Both lines bring the session's first packet: it sets the baseline, and each line is known
      // before it misses anything (until a line is first seen, a miss on the other is a gap at once).
      onA[0] = onB[0] = true;
      // Interleave: each line in order, B up to 5 packets behind A, as on two real paths.
      const arrivals: { bytes: Uint8Array; queue: number }[] = [];
      let j = 0;
      for (let i = 0; i < pk.length; i++) {
        if (onA[i]) arrivals.push({ bytes: pk[i].bytes, queue: 1 });
        for (const upTo = i === 0 ? 0 : i - Math.floor(rand() * 6); j <= upTo; j++) if (onB[j]) arrivals.push({ bytes: pk[j].bytes, queue: 2 });
      }
      for (; j < pk.length; j++) if (onB[j]) arrivals.push({ bytes: pk[j].bytes, queue: 2 });
      const end = BigInt(msgs.length + 1);
      arrivals.push({ bytes: moldControl(S, end, 0xffff), queue: 1 }, { bytes: moldControl(S, end, 0xffff), queue: 2 });
      h.plugin.process(arrivals);

      const both = pk.filter((_, i) => !onA[i] && !onB[i]);
      const bothMissed = both.reduce((a, p) => a + p.count, 0);
      const gaps = h.controls.filter((c) => c.kind === 'gap');
      // Exactly the messages both lines missed, and no more.
      const inGaps = new Set<number>();
      for (const g of gaps) for (let q = Number(g.a); q < Number(g.a + g.b); q++) inGaps.add(q);
      const wantMissing = new Set<number>();
      for (const p of both) for (let k = 0; k < p.count; k++) wantMissing.add(Number(p.seq) + k);
      expect(inGaps).toEqual(wantMissing);
      expect(h.c('gap_messages')).toBe(bothMissed);
      if (dropB === 0) expect(h.c('gap_messages')).toBe(0);
      expect(h.c('late')).toBe(0);
      // Every message delivered once; received + gaps account for every sequence; duplicates are the second copies.
      expect(new Set(h.records.map((r) => r.sequence)).size).toBe(h.records.length);
      expect(h.records.length + bothMissed).toBe(msgs.length);
      const a = line(h, 1);
      const b = line(h, 2);
      const countOn = (on: boolean[]) => pk.reduce((n, p, i) => n + (on[i] ? p.count : 0), 0);
      expect([a.received, b.received]).toEqual([countOn(onA), countOn(onB)]);
      expect(a.first + b.first).toBe(h.records.length);
      expect(a.late + b.late).toBe(h.c('duplicates'));
      expect(h.c('duplicates')).toBe(a.received + b.received - h.records.length);
      expect([a.received + a.lost, b.received + b.lost].every((x) => x <= msgs.length)).toBe(true);
    });
  }
});
