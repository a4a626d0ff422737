// A real nats-server cluster for tests: 3 nodes with JetStream on loopback ports chosen free at run
// time, in a temp dir, stopped by PID (host/publish/cluster.ts does the work; `npm start -- --fleet`
// uses the same). Tests call closeAll() in afterAll so no server outlives its file.
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
