// A real nats-server cluster for tests: 3 nodes with JetStream on loopback ports chosen free at run
// time, in a temp dir, stopped by PID (host/publish/cluster.ts does the work; `npm start -- --fleet`
// uses the same). Tests call closeAll() in afterAll so no server outlives its file.
import { afterAll, beforeAll } from 'vitest';
import { tempDirForFile } from './suite.js';
import { startNatsCluster, type NatsCluster } from '../../host/publish/cluster.js';

const started: NatsCluster[] = [];

export async function natsCluster(nodes = 3): Promise<NatsCluster> {
  const c = await startNatsCluster({ nodes });
  started.push(c);
  return c;
}

export async function closeAll(): Promise<void> {
  await Promise.all(started.splice(0).map((c) => c.close()));
}

export type { NatsCluster };

/** A cluster of `nodes` started before the file's tests and stopped after them; call the getter inside a test. */
export function natsClusterForFile(nodes: number): () => NatsCluster {
  let cluster: NatsCluster | undefined;
  beforeAll(async () => {
    cluster = await natsCluster(nodes);
  });
  afterAll(closeAll);
  return () => cluster!;
}

/** natsClusterForFile plus a temporary directory for the file's captures, removed after its tests. */
export function natsClusterAndDirForFile(nodes: number, prefix: string): { nats: () => NatsCluster; dir: () => string } {
  return { nats: natsClusterForFile(nodes), dir: tempDirForFile(prefix) };
}
