// `wirewasm feed-sim`: the deterministic ITCH 5.0 feed simulator (host/feed/sim.ts), the server half
// of a feed test; `wirewasm feed` is the client half.
import type { Command } from 'commander';
import { untilInterrupted } from '../interrupt.js';
import { FEED_TRANSPORTS, FeedSimError, runFeedSim, type FeedTransport } from '../../feed/sim.js';

const BACKENDS = ['socket', 'io_uring', 'afpacket', 'afxdp'];

const num = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new FeedSimError(`${flag} ${v}: expected a number`);
  return n;
};

export function register(program: Command): void {
  program
    .command('feed-sim')
    .description('send a deterministic ITCH 5.0 feed: MoldUDP64 over UDP (unicast or multicast) or SoupBinTCP over TCP (as the server)')
    .requiredOption('--transport <t>', `one of ${FEED_TRANSPORTS.join(', ')}`)
    .option('--backend <b>', `how to send: ${BACKENDS.join(', ')} (socket: plain kernel sockets)`, 'socket')
    .option('--iface <if>', 'afpacket/afxdp: the interface to send on')
    .option('--netns <name>', 'afpacket/afxdp: the network namespace of --iface')
    .option('--host <addr>', 'udp: receiver address; udp-multicast: local interface address to send from; tcp: address to listen on', '127.0.0.1')
    .requiredOption('--port <n>', 'UDP destination port, or TCP port to listen on', num('--port'))
    .option('--group <addr>', 'multicast group (udp-multicast)')
    .requiredOption('--rate <msgs/s>', 'messages per second (0: as fast as possible)', num('--rate'))
    .requiredOption('--duration <s>', 'seconds: rate × duration messages are sent', num('--duration'))
    .option('--messages-per-packet <k>', 'ITCH messages per MoldUDP64 packet (or per TCP write)', num('--messages-per-packet'), 8)
    .option('--drop-every <n>', 'skip sending every Nth packet, still numbering its messages (udp)', num('--drop-every'), 0)
    .option('--lines <n>', 'A/B: 2 sends the session on two lines (line B to --port-b), each dropping packets on its own (--line-drop)', num('--lines'), 1)
    .option('--port-b <n>', 'line B UDP destination port (default --port + 1)', num('--port-b'))
    .option('--line-drop <p>', 'probability that a line drops a packet (seeded, independent per line; still numbered)', num('--line-drop'), 0)
    .option('--seed <s>', 'seed of the market (same seed, same messages)', num('--seed'), 1)
    .option('--session <name>', 'MoldUDP64 / SoupBinTCP session name (10 characters at most)', 'WIREWASM01')
    .option('--wait-client <s>', 'tcp: seconds to wait for a client to log in', num('--wait-client'), 30)
    .option('--rerequest-port <n>', 'also serve MoldUDP64 re-requests on this UDP port (udp transports)', num('--rerequest-port'))
    .option('-w, --write <out.pcapng>', 'also write the packets sent to a pcapng file')
    .option('--no-digest', 'skip the digest of the sent stream (it halves the generator speed)')
    .option('--json', 'print one JSON object at the end')
    .action(async (opts) => {
      const r = await untilInterrupted((signal) =>
        runFeedSim({
          transport: opts.transport as FeedTransport,
          backend: opts.backend,
          iface: opts.iface,
          netns: opts.netns,
          digest: opts.digest,
          host: opts.host,
          port: opts.port,
          group: opts.group,
          rate: opts.rate,
          duration: opts.duration,
          messagesPerPacket: opts.messagesPerPacket,
          dropEvery: opts.dropEvery,
          lines: opts.lines,
          portB: opts.portB,
          lineDrop: opts.lineDrop,
          seed: opts.seed,
          session: opts.session,
          write: opts.write,
          waitClientMs: opts.waitClient * 1000,
          rerequestPort: opts.rerequestPort,
          signal,
          onReady: (w) => !opts.json && process.stderr.write(`feed-sim: ${opts.transport} ${opts.transport === 'tcp' ? `listening on ${w.host}:${w.port}` : `from ${w.host}:${w.port} to ${opts.group ?? opts.host}:${opts.port}`}\n`),
        }),
      );
      if (opts.json) process.stdout.write(JSON.stringify(r) + '\n');
      else
        process.stdout.write(
          `sent ${r.messages_sent} messages in ${r.packets_sent} packets in ${r.seconds.toFixed(2)} s (${Math.round(r.messages_sent / r.seconds)} msgs/s); ` +
            `dropped ${r.messages_dropped} messages in ${r.packets_dropped} packets; next sequence ${r.next_sequence}\ndigest ${r.digest}\n`,
        );
    });
}
