// The one result shape every bench suite reports, and the statistics behind it.

export interface BenchResult {
  name: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  runs: number;
  /** Suite-specific extras (e.g. "offered", "loss", "cpu_s_per_mpkt"), and "error" when a peer could not run. */
  [extra: string]: unknown;
}

export interface BenchReport {
  suite: string;
  results: BenchResult[];
  /** What the machine was doing: cores, node version, notes a reader needs to judge the figures. */
  env?: Record<string, unknown>;
}

export interface SuiteOptions {
  json: boolean;
  /** Free arguments after the suite name, e.g. --runs 3. */
  argv: string[];
  log: (line: string) => void;
}

export type Suite = (opts: SuiteOptions) => Promise<BenchResult[]>;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Summarises repeated measurements of one thing into a result row. */
export function summarize(name: string, unit: string, samples: number[], extra: Record<string, unknown> = {}): BenchResult {
  if (samples.length === 0) return { name, unit, median: 0, min: 0, max: 0, runs: 0, ...extra };
  return { name, unit, median: median(samples), min: Math.min(...samples), max: Math.max(...samples), runs: samples.length, ...extra };
}

/** A row for a peer that could not run here, with the reason and what to do about it. */
export function unavailable(name: string, unit: string, error: string): BenchResult {
  return { name, unit, median: 0, min: 0, max: 0, runs: 0, error };
}

/** Reads `--flag value` from a suite's argv. */
export function argValue(argv: string[], flag: string, fallback: number): number {
  const i = argv.indexOf(flag);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`${flag}: expected a number, got ${argv[i + 1]}`);
  return v;
}
