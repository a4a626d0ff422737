// A local NATS cluster with JetStream for tests, benches and the `start --fleet` demo: N
// `nats-server` processes (the Debian package) on loopback ports chosen free at run time, each with
// its own store in a temp directory, routes between all of them; stopped by PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

export interface NatsNode {
  name: string;
  port: number;
  clusterPort: number;
  config: string;
  proc?: ChildProcess;
  log: string[];
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every client URL, comma separated: what --publish / --nats take. */
  url: string;
  dir: string;
  /** Kills node i (SIGKILL, by its PID) and waits for the process to be gone. */
  kill(i: number): Promise<void>;
  /** Starts node i again (same ports, same store) and waits until it takes clients. */
  restart(i: number): Promise<void>;
  /** Stops every node (SIGTERM by PID, then SIGKILL after 5 s). */
  stopAll(): Promise<void>;
  /** Starts every node again and waits for JetStream. */
  startAll(): Promise<void>;
  /** Stops every node and removes the directory. */
  close(): Promise<void>;
}

/** Where nats-server is, or an error saying how to install it. */
export function natsServerBinary(): string {
  for (const p of [process.env.NATS_SERVER, '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) {
    if (p && spawnSync(p, ['--version']).status === 0) return p;
  }
  const r = spawnSync('nats-server', ['--version']);
  if (r.status === 0) return 'nats-server';
  throw new Error('nats-server not found: install it (apt-get install nats-server) or set NATS_SERVER to its path');
}

/** A loopback TCP port free right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Starts `nodes` nats-server processes (1 = a single server, no cluster) with JetStream, and waits until JetStream answers. */
export async function startNatsCluster(opts: { nodes?: number; name?: string } = {}): Promise<NatsCluster> {
  const bin = natsServerBinary();
  const n = opts.nodes ?? 3;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wirewasm-nats-'));
  const ports: number[] = [];
  while (ports.length < 2 * n) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const nodes: NatsNode[] = [];
  for (let i = 0; i < n; i++) {
    const name = `n${i + 1}`;
    const port = ports[2 * i];
    const clusterPort = ports[2 * i + 1];
    const store = path.join(dir, name);
    mkdirSync(store);
    const routes = ports.filter((_, j) => j % 2 === 1 && j !== 2 * i + 1).map((p) => `nats-route://127.0.0.1:${p}`);
    const conf = [
      `server_name: ${name}`,
      `listen: 127.0.0.1:${port}`,
      `max_payload: 8MB`,
      `jetstream { store_dir: "${store}", max_memory_store: 256MB, max_file_store: 2GB }`,
      n > 1 ? `cluster { name: ${opts.name ?? 'wirewasm'}, listen: 127.0.0.1:${clusterPort}, routes: [${routes.join(', ')}] }` : '',
    ].join('\n');
    const config = path.join(dir, `${name}.conf`);
    writeFileSync(config, conf + '\n');
    nodes.push({ name, port, clusterPort, config, log: [] });
  }
  const launch = (node: NatsNode) => {
    const proc = spawn(bin, ['-c', node.config], { stdio: ['ignore', 'pipe', 'pipe'] });
    node.log = [];
    const keep = (d: Buffer) => {
      node.log.push(d.toString());
      if (node.log.length > 200) node.log.shift();
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    node.proc = proc;
  };
  const up = async (node: NatsNode) => {
    const end = Date.now() + 20_000;
    while (!(await canConnect(node.port))) {
      if (node.proc?.exitCode !== null && node.proc?.exitCode !== undefined) throw new Error(`nats-server ${node.name} exited (${node.proc.exitCode}): ${node.log.join('').slice(-2000)}`);
      if (Date.now() > end) throw new Error(`nats-server ${node.name} did not listen on 127.0.0.1:${node.port} within 20 s: ${node.log.join('').slice(-2000)}`);
      await sleep(50);
    }
  };
  const url = nodes.map((x) => `nats://127.0.0.1:${x.port}`).join(',');
  const jetstreamReady = async () => {
    const end = Date.now() + 30_000;
    for (;;) {
      try {
        const nc = await connect({ servers: url.split(','), timeout: 2000 });
        try {
          const jsm = await jetstreamManager(nc, { timeout: 2000 });
          await jsm.getAccountInfo();
          return;
        } finally {
          await nc.close();
        }
      } catch (e) {
        if (Date.now() > end) throw new Error(`JetStream of the local cluster not ready within 30 s: ${(e as Error).message}`);
        await sleep(200);
      }
    }
  };
  const stopNode = async (node: NatsNode, signal: NodeJS.Signals) => {
    const p = node.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    process.kill(p.pid!, signal);
    const t = setTimeout(() => p.exitCode === null && p.signalCode === null && process.kill(p.pid!, 'SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  };
  const cluster: NatsCluster = {
    nodes,
    url,
    dir,
    kill: (i) => stopNode(nodes[i], 'SIGKILL'),
    async restart(i) {
      launch(nodes[i]);
      await up(nodes[i]);
    },
    async stopAll() {
      await Promise.all(nodes.map((x) => stopNode(x, 'SIGTERM')));
    },
    async startAll() {
      nodes.forEach(launch);
      await Promise.all(nodes.map(up));
      await jetstreamReady();
    },
    async close() {
      await cluster.stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.startAll();
  } catch (e) {
    await cluster.close();
    throw e;
  }
  return cluster;
}
