// `npm run bench -- SUITE [--json] [suite options]`: runs bench/suites/SUITE and prints a table, or
// with --json one object {"suite", "results":[{name, unit, median, min, max, runs, ...}]}.
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchReport, Suite } from './common.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'suites');
const suites = readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();
const argv = process.argv.slice(2);
const json = argv.includes('--json');
const rest = argv.filter((a) => a !== '--json');
const name = rest.shift();
if (!name || !suites.includes(name)) {
  process.stderr.write(`usage: npm run bench -- SUITE [--json]\nsuites: ${suites.join(', ')}\n${name ? `no suite named "${name}"\n` : ''}`);
  process.exit(2);
}
const log = (line: string) => process.stderr.write(line + '\n');
const suite = (await import(pathToFileURL(path.join(dir, `${name}.js`)).href)) as { default: Suite };
const results = await suite.default({ json, argv: rest, log });
const report: BenchReport = {
  suite: name,
  results,
  env: { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, kernel: os.release() },
};
if (json) process.stdout.write(JSON.stringify(report) + '\n');
else {
  const fmt = (x: number) => (x >= 100 ? x.toExponential(3) : x.toPrecision(4));
  const rows = [['name', 'unit', 'median', 'min', 'max', 'runs', 'notes']];
  for (const r of results) {
    const { name: n, unit, median, min, max, runs, ...extra } = r;
    rows.push([n, unit, fmt(median), fmt(min), fmt(max), String(runs), Object.entries(extra).map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : v}`).join(' ')]);
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  process.stdout.write(rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd()).join('\n') + '\n');
}
