// `wirewasm feed-sim` as its own process, for the feed suites (tests/e2e/feed.test.ts over
// loopback, tests/live/feed.test.ts across a veth pair): its --json report when it exits 0.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { runFeedClient, type FeedBackendName, type FeedClientOptions } from '../../host/feed/client.js';
import type { FeedSimResult } from '../../host/feed/sim.js';
import { packageRoot } from '../../host/paths.js';
import type { Testbed } from '../../host/testbed.js';

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

/**
 * feed-sim in the testbed's namespace a (`simArgs` after its --json --transport udp --host --port)
 * sends to the feed client on `backend` in namespace b: the client's report and the simulator's.
 */
export async function feedFromPeer(bed: Testbed, backend: FeedBackendName, port: number, simArgs: string[], client: Partial<FeedClientOptions> = {}) {
  let out = '';
  let child: ReturnType<Testbed['spawn']> | null = null;
  const feed = await runFeedClient({
    backend, iface: bed.b.iface, netns: bed.b.ns, transport: 'udp', host: bed.b.ip, port, digest: true, duration: 30,
    ...client,
    onReady: () => {
      child = bed.spawn(bed.a.ns, process.execPath, [cli, 'feed-sim', '--json', '--transport', 'udp', '--host', bed.b.ip, '--port', String(port), ...simArgs]);
      child.stdout!.on('data', (d) => (out += d));
    },
  });
  await new Promise((res) => (child!.exitCode !== null ? res(0) : child!.once('exit', res)));
  return { feed, sim: JSON.parse(out) as FeedSimResult };
}
