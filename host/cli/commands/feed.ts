// `wirewasm feed`: the market-data ingestion client (host/feed/client.ts): receives ITCH 5.0 over
// MoldUDP64 (udp, udp-multicast) or SoupBinTCP (tcp) and prints live rate, gaps, latency and counts
// per message type; `--json` prints one object at the end.
import type { Command } from 'commander';
import { untilInterrupted } from '../interrupt.js';
import { FEED_BACKENDS, FeedError, runFeedClient, type FeedBackendName, type FeedPluginName, type FeedReport } from '../../feed/client.js';
import { FEED_TRANSPORTS, type FeedTransport } from '../../feed/sim.js';
import { closeSync, openSync, writeSync } from 'node:fs';
import { createLogUpdate } from 'log-update';
import { bboLine, price4, type OrderBook } from '../../feed/book.js';
import { messageLine } from '../../feed/messages.js';
import { addFilterArgs, filterExpression } from '../filter-args.js';

/** jsonl to a file or stdout ("-"), written in 64 KiB pieces. */
class Lines {
  private fd: number;
  private buf = '';
  constructor(readonly target: string) {
    this.fd = target === '-' ? 1 : openSync(target, 'w');
  }
  add(line: string): void {
    this.buf += line + '\n';
    if (this.buf.length >= 65536) this.flush();
  }
  flush(): void {
    if (this.buf) writeSync(this.fd, this.buf);
    this.buf = '';
  }
  close(): void {
    this.flush();
    if (this.fd !== 1) closeSync(this.fd);
  }
}

/** The price ladder of each symbol: asks above (best lowest), bids below (best first). */
function ladder(book: OrderBook, symbols: string[], depth: number): string {
  const out: string[] = [];
  for (const s of symbols) {
    const t = book.top(s, depth);
    out.push(`${s}`.padEnd(12) + 'orders'.padStart(8) + 'shares'.padStart(12) + 'price'.padStart(14));
    for (const l of [...t.ask].reverse()) out.push('  ask'.padEnd(12) + String(l.orders).padStart(8) + String(l.shares).padStart(12) + price4(l.price).padStart(14));
    out.push('  ' + '-'.repeat(44));
    for (const l of t.bid) out.push('  bid'.padEnd(12) + String(l.orders).padStart(8) + String(l.shares).padStart(12) + price4(l.price).padStart(14));
    out.push('');
  }
  return out.join('\n');
}

const num = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new FeedError(`${flag} ${v}: expected a number`);
  return n;
};

const fmtNs = (ns: number) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(1)} µs` : `${ns} ns`);

function line(r: FeedReport): string {
  return `${Math.round(r.messages_per_s).toLocaleString('en')} msgs/s  total ${r.messages}${r.filter !== undefined ? `  filtered ${r.filtered}` : ''}  gaps ${r.gaps} (${r.gap_events})  dup ${r.duplicates}  malformed ${r.malformed}  latency p50 ${fmtNs(r.latency_ns.p50)} p99 ${fmtNs(r.latency_ns.p99)}`;
}

function parseHostPort(s: string): { host: string; port: number } {
  const m = /^([0-9.]+):(\d+)$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new FeedError(`--rerequest ${s}: give HOST:PORT, e.g. 127.0.0.1:26500`);
  return { host: m[1], port: Number(m[2]) };
}

/** HOST:PORT (unicast: the address to bind) or GROUP:PORT (a multicast group). */
function parseLine(flag: string, s: string): { host: string; port: number; group?: string } {
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new FeedError(`${flag} ${s}: give HOST:PORT or GROUP:PORT, e.g. 127.0.0.1:26400 or 239.1.1.1:26400`);
  const first = Number(m[1].split('.')[0]);
  return first >= 224 && first <= 239 ? { host: '', port: Number(m[2]), group: m[1] } : { host: m[1], port: Number(m[2]) };
}

function parseStartSeq(s: string): 'first' | 1 {
  if (s === 'first' || s === '1') return s === '1' ? 1 : 'first';
  throw new FeedError(`--start-seq ${s}: give first (the first sequence seen is the baseline) or 1 (expect the start of day)`);
}

export function register(program: Command): void {
  addFilterArgs(program.command('feed'))
    .description('receive an ITCH 5.0 feed (MoldUDP64 over UDP/multicast, SoupBinTCP over TCP): live rate, gaps, latency, counts per type')
    .option('--backend <b>', `receive with ${FEED_BACKENDS.join(', ')}`, 'io_uring')
    .requiredOption('--transport <t>', `one of ${FEED_TRANSPORTS.join(', ')}`)
    .option('--host <addr>', 'udp: local address to bind; udp-multicast: interface address to join on; tcp: the server', '127.0.0.1')
    .option('--port <n>', 'UDP port to receive on, or the TCP server port (or give --line-a)', num('--port'))
    .option('--line-a <spec>', 'A/B arbitration, line A: HOST:PORT to bind, or GROUP:PORT (multicast, joined on --host)')
    .option('--line-b <spec>', 'A/B arbitration, line B: HOST:PORT or GROUP:PORT carrying the same session')
    .option('--line-timeout <ms>', 'A/B: a line silent this long is dead; what only it could bring becomes a gap (default 500)', num('--line-timeout'))
    .option('--group <addr>', 'multicast group to join (udp-multicast)')
    .option('--iface <if>', 'afpacket/afxdp: the interface to receive on; udp-multicast: the interface to join on (default: the one holding --host)')
    .option('--dpdk-port <port>', 'dpdk backend: the DPDK port (net_af_packet0,iface=eth0, net_af_xdp0,iface=eth0 or a PCI address; docs/dpdk.md)')
    .option('--file <capture>', 'pcap backend: the capture to replay (pcap or pcapng, e.g. from feed-sim -w)')
    .option('--netns <name>', 'open the backend in this network namespace (ip netns)')
    .option('--plugin <name>', 'itch (MoldUDP64) or soupbintcp-itch (default: by transport)')
    .option('--duration <s>', 'stop after this many seconds (default: at end of session)', num('--duration'))
    .option('--no-until-end', 'keep running after the session ended (until --duration or Ctrl-C)')
    .option('--rerequest <host:port>', 'ask this MoldUDP64 re-request server for every gap (e.g. feed-sim --rerequest-port)')
    .option('--user <name>', 'tcp: SoupBinTCP login user name (6 characters at most)', 'wwfeed')
    .option('--password <pw>', 'tcp: SoupBinTCP login password (10 characters at most)', '')
    .option('--start-seq <first|1>', 'first: the first sequence seen is the baseline (reported); 1: expect the start of day, the messages before the first seen are a gap (re-requested with --rerequest)', 'first')
    .option('--frame-size <bytes>', 'bytes per receive frame, a power of two from 2048 to 65536 (default: 65536 for UDP, so a 64 KiB datagram arrives whole)', num('--frame-size'))
    .option('--digest', 'compute a SHA-256 digest of the decoded stream (compare with feed-sim --json)')
    .option('--messages <file|->', 'write every decoded message as one JSON object per line (spec field names, prices as decimal strings) to a file or stdout')
    .option('--book <symbols>', 'keep an order book and show these symbols (comma-separated) as a live ladder on a TTY')
    .option('--depth <n>', 'price levels per side in the ladder', num('--depth'), 5)
    .option('--bbo <file|->', 'write each change of best bid/offer (price or shares) as jsonl to a file or stdout (the --book symbols, or all)')
    .option('--book-orders <n>', 'order book: live orders at most', num('--book-orders'), 1 << 20)
    .option('--book-symbols <n>', 'order book: instruments at most', num('--book-symbols'), 1024)
    .option('--book-levels <n>', 'order book: price levels per side of an instrument at most', num('--book-levels'), 256)
    .option('--json', 'print one JSON object at the end')
    .action(async (words: string[], opts) => {
      const filter = filterExpression(words, opts);
      const toStdout = [opts.messages, opts.bbo].filter((x) => x === '-').length;
      if (toStdout > 1 || (toStdout && opts.json)) throw new FeedError('--messages -, --bbo - and --json all write to stdout: send all but one to a file');
      const symbols: string[] = opts.book ? String(opts.book).split(',').map((x: string) => x.trim()).filter(Boolean) : [];
      const wanted = symbols.length ? new Set(symbols) : null;
      const messages = opts.messages ? new Lines(opts.messages) : null;
      const bbo = opts.bbo ? new Lines(opts.bbo) : null;
      const withBook = !!(opts.book || opts.bbo);
      const tty = symbols.length > 0 && process.stderr.isTTY && toStdout === 0;
      const live = tty ? createLogUpdate(process.stderr) : null;
      let shownAt = 0;
      let finalBook: OrderBook | null = null;
      const a = opts.lineA ? parseLine('--line-a', opts.lineA) : null;
      const b = opts.lineB ? parseLine('--line-b', opts.lineB) : null;
      if (!!a !== !!b) throw new FeedError('A/B arbitration needs both --line-a and --line-b');
      if (a && b && a.group !== b.group && (!a.group || !b.group)) throw new FeedError('--line-a and --line-b: give both as HOST:PORT (unicast) or both as GROUP:PORT (multicast)');
      if (!a && opts.port === undefined) throw new FeedError('give --port (or --line-a and --line-b)');
      const r = await untilInterrupted((signal) =>
        runFeedClient({
          backend: opts.backend as FeedBackendName,
          transport: opts.transport as FeedTransport,
          host: a && !a.group ? a.host : opts.host,
          port: a ? a.port : opts.port,
          group: a ? a.group : opts.group,
          lineTimeoutMs: opts.lineTimeout,
          lineB: b ? { host: b.group ? opts.host : b.host, port: b.port, group: b.group, iface: opts.iface } : undefined,
          iface: opts.iface,
          file: opts.file,
          dpdkPort: opts.dpdkPort,
          netns: opts.netns,
          plugin: opts.plugin as FeedPluginName | undefined,
          filter,
          duration: opts.duration,
          untilEnd: opts.untilEnd,
          digest: opts.digest,
          frameSize: opts.frameSize,
          startSeq: parseStartSeq(opts.startSeq),
          user: opts.user,
          password: opts.password,
          rerequest: opts.rerequest ? parseHostPort(opts.rerequest) : undefined,
          signal,
          book: withBook ? { orders: opts.bookOrders, symbols: opts.bookSymbols, levels: opts.bookLevels } : undefined,
          onMessageView: messages
            ? (v) => {
                while (v.next()) messages.add(messageLine(v));
              }
            : undefined,
          onBook: (records, book) => {
            finalBook = book;
            if (bbo) for (const r of records) if (r.kind === 'bbo' && (!wanted || wanted.has(r.stock))) bbo.add(bboLine(r));
            if (live && performance.now() - shownAt > 200) {
              shownAt = performance.now();
              live(ladder(book, symbols, opts.depth));
            }
          },
          onReady: () => !opts.json && process.stderr.write(`feed: ${opts.backend} ${opts.transport} on ${opts.lineA ? `line A ${opts.lineA}, line B ${opts.lineB}` : `${opts.group ?? opts.host}:${opts.port}`}, waiting for data\n`),
          onProgress: (r) => !opts.json && !live && process.stderr.write(line(r) + '\n'),
        }),
      );
      messages?.close();
      bbo?.close();
      live?.done();
      if (opts.json) {
        const { backend_stats, plugins, ...rest } = r;
        process.stdout.write(JSON.stringify({ ...rest, backend_stats, plugins }) + '\n');
      } else {
        const out = [line({ ...r, messages_per_s: r.messages / Math.max(r.seconds, 1e-9) }), `by type: ${Object.entries(r.by_type).map(([t, n]) => `${t} ${n}`).join(', ')}`];
        if (r.lines) out.push(Object.entries(r.lines).map(([k, l]) => `line ${k.toUpperCase()}: received ${l.received}, first ${l.first_arrivals}, late ${l.late}, lost ${l.lost}`).join('\n'));
        if (r.gap_list.length) out.push(`gaps at: ${r.gap_list.slice(0, 10).map(([a, n]) => `${a}+${n}`).join(', ')}${r.gap_list.length > 10 ? ' …' : ''}`);
        if (r.digest) out.push(`digest ${r.digest}`);
        if (finalBook && symbols.length) out.push(ladder(finalBook, symbols, opts.depth));
        process.stdout.write(out.join('\n') + '\n');
      }
      // A damaged capture (--backend pcap), as in tcpdump: read up to the damage, named, non-zero exit.
      if (r.input_problem) {
        process.stderr.write(`wirewasm: ${r.input_problem}\n`);
        process.exitCode = 1;
      }
    });
}
