// `wirewasm top --nats URL`: the fleet live: every engine that publishes its stats (replay or start
// with --publish) on wirewasm.<engine>.stats, one row each: pps, drops by reason, latency p99,
// publish lag. --json prints one snapshot of the fleet and exits.
import type { Command } from 'commander';
import { createLogUpdate } from 'log-update';
import { connectTo } from '../../publish/sink.js';
import { Fleet } from '../../publish/fleet.js';
import { FLEET_STATS } from '../../publish/subjects.js';

export function register(program: Command): void {
  program
    .command('top')
    .description('live view of every engine publishing to NATS: pps, drops by reason, latency p99, publish lag per host')
    .requiredOption('--nats <url>', 'NATS server URL (several: comma separated)')
    .option('--json', 'print one snapshot of the fleet as JSON and exit')
    .option('--wait <ms>', 'with --json: how long to listen for snapshots (engines send one a second)', '1500')
    .action(async (o: { nats: string; json?: boolean; wait: string }) => {
      const nc = await connectTo(o.nats, 'wirewasm top');
      const fleet = new Fleet();
      const sub = nc.subscribe(FLEET_STATS, { callback: (_e, m) => fleet.add(m.data) });
      try {
        if (o.json) {
          await new Promise((r) => setTimeout(r, Number(o.wait)));
          process.stdout.write(JSON.stringify(fleet.json()) + '\n');
          return;
        }
        const tty = Boolean(process.stdout.isTTY);
        const update = tty ? createLogUpdate(process.stdout) : undefined;
        const show = () => (update ? update(fleet.render()) : process.stdout.write(fleet.render() + '\n\n'));
        const timer = setInterval(show, 1000);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        clearInterval(timer);
        update?.done();
      } finally {
        sub.unsubscribe();
        await nc.close();
      }
    });
}
