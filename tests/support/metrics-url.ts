// The address a running `wirewasm` command serves Prometheus metrics on, as it says on stderr.
import type { ChildProcess } from 'node:child_process';

/** Resolves with the URL of the "metrics on http://…" line `p` writes to stderr; rejects when `p` exits first, with what it wrote. */
export function metricsUrl(p: ChildProcess): Promise<string> {
  let stderr = '';
  return new Promise<string>((resolve, reject) => {
    p.stderr!.on('data', (d) => {
      stderr += d;
      const m = /metrics on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    p.on('exit', () => reject(new Error(`exited before serving metrics: ${stderr}`)));
  });
}
