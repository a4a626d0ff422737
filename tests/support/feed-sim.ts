// `wirewasm feed-sim` as its own process, for the feed suites (tests/e2e/feed.test.ts over
// loopback, tests/live/feed.test.ts across a veth pair): its --json report when it exits 0.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { FeedSimResult } from '../../host/feed/sim.js';
import { packageRoot } from '../../host/paths.js';

export const cli = path.join(packageRoot, 'dist', 'host', 'cli', 'main.js');

export function startSim(args: string[]): { done: Promise<FeedSimResult> } {
  const child = spawn(process.execPath, [cli, 'feed-sim', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<FeedSimResult>((res, rej) => {
    child.on('exit', (code) => {
      if (code !== 0) rej(new Error(`feed-sim exited ${code}: ${err}`));
      else res(JSON.parse(out) as FeedSimResult);
    });
  });
  return { done };
}
