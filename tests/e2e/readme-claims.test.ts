// Every benchmark figure in the README says when it was measured and how to measure it again: the
// paragraph or table row that states a rate (packets, messages, items or records per second, CPU
// or time per packet) carries a date (YYYY-MM-DD) and an `npm run bench` command; a table's rows
// may take both from the paragraph just above the table (its caption).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { artefact } from '../../host/paths.js';

const FIGURE = /\d[\d.,]*(?:e\d+)?\s*(?:[kMG]\s*)?(?:pps|Mpps|msgs\/s|messages\/s|pkts\/s|packets\/s|items\/s|records\/s|ns\/pkt|ns\/frame|CPU-s\/Mpkt|Gbit\/s|Mbit\/s)\b|\|\s*(?:msgs|items|records|pkts|packets)\/s\s*\|/;
const DATE = /\b20\d\d-\d\d-\d\d\b/;
const COMMAND = /npm run bench/;

/** Paragraphs and tables outside code fences, with their first line; a table remembers the paragraph before it. */
function blocks(text: string): { line: number; text: string; caption?: string }[] {
  const out: { line: number; text: string; caption?: string }[] = [];
  let cur: string[] = [];
  let kind: 'p' | 't' | undefined;
  let start = 0;
  let fence = false;
  let lastParagraph: string | undefined;
  const end = () => {
    if (cur.length) {
      const text = cur.join('\n');
      out.push({ line: start, text, caption: kind === 't' ? lastParagraph : undefined });
      lastParagraph = kind === 'p' ? text : undefined;
    }
    cur = [];
    kind = undefined;
  };
  text.split('\n').forEach((l, i) => {
    if (/^```/.test(l)) {
      end();
      fence = !fence;
      return;
    }
    if (fence) return;
    const k = l.trim() === '' || /^#/.test(l) ? undefined : /^\|/.test(l) ? 't' : 'p';
    if (k !== kind) end();
    if (/^#/.test(l)) lastParagraph = undefined;
    if (!k) return;
    if (!cur.length) start = i + 1;
    kind = k;
    cur.push(l);
  });
  end();
  return out;
}

it('README: every benchmark figure carries the date it was measured and the command that measures it', () => {
  const readme = readFileSync(artefact('README.md'), 'utf8');
  const undated: string[] = [];
  let figures = 0;
  for (const b of blocks(readme)) {
    // A table row by row: each row dated itself or by the table's caption.
    const parts = b.caption === undefined ? [b.text] : b.text.split('\n');
    for (const part of parts) {
      if (!FIGURE.test(part)) continue;
      figures++;
      const context = part + '\n' + (b.caption ?? '');
      if (!DATE.test(context) || !COMMAND.test(context)) undated.push(`README.md:${b.line}: ${part.slice(0, 120)}`);
    }
  }
  expect(figures).toBeGreaterThan(10);
  expect(undated).toEqual([]);
});
