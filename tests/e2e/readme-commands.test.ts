// Every command line a reader can copy from the README and docs/*.md (the fenced sh/bash/console
// blocks) works: each one this machine can run is run as written against the built bin, in a
// scratch directory holding the inputs it names (a corpus capture copied to `trace.pcap`, the
// quick start's handler as `handler.mjs`, ...; the reader's NATS servers n1, n2 are the nodes of a
// local 3-node cluster), and must exit 0 with a property of its output. Each one that needs what a
// test here cannot have (a real NIC like eth0, root namespaces, a client left running in a second
// terminal, minutes of benchmark, the install itself) is checked statically: the subcommand and
// every option it uses exist in the CLI's own commander program (an npm script in package.json,
// an installed tool), so a renamed option fails here; RULES names each such line and why. A command line that no rule below classifies fails too: a new README command
// is run or explicitly declared static with its reason.
// Every relative link of README.md and docs/*.md names a file that exists.
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { artefact, packageRoot } from '../../host/paths.js';
import { addCommands, newProgram } from '../../host/cli/program.js';
import { FrameParser } from '../../host/parser.js';
import { readCaptureFile, writePcap } from '../../host/pcap/index.js';
import { natsClusterForFile } from '../support/nats-cluster.js';
import { freeUdpPort } from '../support/ports.js';

const cli = artefact('dist/host/cli/main.js');
const corpus = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump');
// Ethernet, 125 frames, TCP SYNs and UDP among them: every filter below selects some, not all.
const trace = path.join(corpus, 'babel_update_oobr.pcap');

/** The documents whose commands a reader copies. docs/cli.md is generated from the program itself. */
const documents = ['README.md', ...readdirSync(artefact('docs')).filter((f) => f.endsWith('.md') && f !== 'cli.md').map((f) => path.join('docs', f))];

interface CommandLine {
  /** `README.md:226`, where a failure points. */
  where: string;
  /** The line as written, comment removed, continuation lines joined. */
  text: string;
  /** Its `&&` steps, each a `|` pipeline of argv arrays. */
  steps: string[][][];
}

/** Splits a shell line into words, `&&` and `|`, honouring quotes; an unquoted `#` word starts a comment. */
function words(line: string): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unclosed ${c} in: ${line}`);
      cur = (cur ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (/\s/.test(c)) {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else if (c === '#' && cur === undefined) break;
    else cur = (cur ?? '') + c;
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

/** The placeholders the README writes where the reader puts a value, with a value of the shape it asks. */
const PLACEHOLDERS: [RegExp, string][] = [
  [/<80 hex digits>/g, '6d5a'.repeat(20)],
  [/\[(--[^\]]+)\]/g, '$1'], // an optional part: checked as if given
];

function commandLines(doc: string): CommandLine[] {
  const lines = readFileSync(artefact(doc), 'utf8').split('\n');
  const out: CommandLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(\w*)/.exec(lines[i]);
    if (!m) continue;
    const shell = ['sh', 'bash', 'console', 'shell'].includes(m[1]);
    while (++i < lines.length && !/^```/.test(lines[i])) {
      if (!shell) continue;
      const start = i;
      let text = lines[i].replace(/^\$ /, '');
      while (/\\$/.test(text) && i + 1 < lines.length) text = text.slice(0, -1) + ' ' + lines[++i].trim();
      let w = words(PLACEHOLDERS.reduce((t, [re, v]) => t.replace(re, v), text));
      if (!w.length) continue;
      const steps: string[][][] = [];
      while (w.length) {
        const and = w.indexOf('&&');
        const step = and < 0 ? w : w.slice(0, and);
        w = and < 0 ? [] : w.slice(and + 1);
        const stages: string[][] = [[]];
        for (const x of step) x === '|' ? stages.push([]) : stages[stages.length - 1].push(x);
        steps.push(stages);
      }
      out.push({ where: `${doc}:${start + 1}`, text: words(text).join(' '), steps });
    }
  }
  return out;
}

/** `npx wirewasm X`, `sudo npx wirewasm X`, `wirewasm X`, `npm start -- X`: the CLI's arguments, else undefined. */
function cliArgs(argv: string[]): string[] | undefined {
  const a = argv[0] === 'sudo' ? argv.slice(1) : argv;
  if (a[0] === 'npx' && a[1] === 'wirewasm') return a.slice(2);
  if (a[0] === 'wirewasm') return a.slice(1);
  if (a[0] === 'npm' && a[1] === 'start') return ['start', ...a.slice(a[2] === '--' ? 3 : 2)];
  return undefined;
}

const scripts = (JSON.parse(readFileSync(artefact('package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const NPM_BUILTINS = ['install', 'test', 'pack'];

let program: Command;

/** What is wrong with one pipeline stage, checked without running it ('' when nothing). */
function staticProblem(argv: string[]): string {
  const args = cliArgs(argv);
  if (args) {
    if (args[0] === '--help' || args[0] === '-V') return '';
    const cmd = program.commands.find((c) => c.name() === args[0] || c.aliases().includes(args[0]));
    if (!cmd) return `no command ${args[0]}`;
    const unknown: string[] = [];
    for (const w of args.slice(1)) {
      if (!w.startsWith('-') || w === '-') continue;
      const flag = w.split('=')[0];
      if (!cmd.options.some((o) => o.long === flag || o.short === flag) && flag !== '--help' && flag !== '-h') unknown.push(flag);
    }
    // The options' own parsing: a missing argument or a value a parser refuses throws here.
    try {
      const parsed = cmd.parseOptions(args.slice(1));
      unknown.push(...parsed.unknown.filter((u) => u.startsWith('-') && u !== '-'));
    } catch (e) {
      return `${args[0]}: ${(e as Error).message}`;
    }
    return unknown.length ? `${args[0]} has no option ${[...new Set(unknown)].join(', ')}` : '';
  }
  const a = argv[0] === 'sudo' ? argv.slice(1) : argv;
  if (a[0] === 'npm') {
    if (a[1] === 'run') return scripts[a[2]] ? '' : `package.json has no script ${a[2]}`;
    return NPM_BUILTINS.includes(a[1]) ? '' : `not an npm command this README should use: npm ${a[1]}`;
  }
  if (a[0] === 'npx') return existsSync(path.join(packageRoot, 'node_modules', '.bin', a[1])) ? '' : `no bin ${a[1]} in node_modules/.bin`;
  try {
    execFileSync('sh', ['-c', `command -v ${a[0]}`]);
    return '';
  } catch {
    return `${a[0]} is not installed (add it to .ci/run's apt list)`;
  }
}

// ---- Running -------------------------------------------------------------------------------

const nats = natsClusterForFile(3);
const dir = mkdtempSync(path.join(os.tmpdir(), 'wwcmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Ports the README names, replaced by free ones (other runs on the machine use ports too). */
const ports = new Map<string, string>();

interface Run {
  /** stdout of each `&&` step's last stage. */
  out: string[];
  /** The line as run (its words). */
  argv: string;
  /** The `beside` line's stdout and stderr. */
  beside?: { stdout: string; stderr: string };
  stderr: string;
}

/** A word with the README's ports and NATS servers (n1, n2) replaced by this run's. */
function local(word: string): string {
  const [n1, n2] = nats().url.split(',');
  const port = (p: string) => ports.get(p) ?? p;
  return port(word).replace(/(?<=^[\d.]+:)\d+$/, port).replace('nats://n1:4222', n1).replace('nats://n2:4222', n2);
}

function spawnStage(argv: string[], input?: Buffer, until?: (stdout: string) => boolean, started?: () => void): Promise<{ stdout: string; stderr: string }> {
  const args = cliArgs(argv);
  const mapped = argv.map(local);
  const [file, ...rest] = args
    ? [process.execPath, cli, ...args.map(local)]
    : mapped[0] === 'npx'
      ? [path.join(packageRoot, 'node_modules', '.bin', mapped[1]), ...mapped.slice(2)]
      : mapped;
  return new Promise((resolve, reject) => {
    const p = execFile(file, rest, { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${argv.join(' ')}: ${err.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
    if (input) p.stdin!.end(input);
    else p.stdin!.end();
    let err = '';
    if (started) p.stderr!.on('data', (d: string) => /waiting for data/.test((err += d)) && started());
    let out = '';
    if (until) p.stdout!.on('data', (d: string) => until((out += d)) && p.kill('SIGINT'));
  });
}

/** Runs a line's steps in order; `from` skips leading pipeline stages, their output given as `input`. */
async function run(c: CommandLine, opts: { from?: number; input?: Buffer; until?: (stdout: string) => boolean } = {}): Promise<Run> {
  const out: string[] = [];
  let stderr = '';
  for (const stages of c.steps) {
    let input = opts.input;
    let text = '';
    for (const argv of stages.slice(opts.from ?? 0)) {
      const r = await spawnStage(argv, input, opts.until);
      input = Buffer.from(r.stdout);
      text = r.stdout;
      stderr += r.stderr;
    }
    out.push(text);
  }
  return { out, stderr, argv: c.text };
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '');
const frames = (file: string): number => readCaptureFile(file).records.length;
/** How many frames of `file` libpcap's filter accepts (tcpdump: a reference sharing no code with ours). */
function tcpdumpCount(file: string, expr: string): number {
  const kept = path.join(dir, 'tcpdump-kept.pcap');
  execFileSync('tcpdump', ['-r', file, '-w', kept, expr], { stdio: 'ignore' });
  return frames(kept);
}
/** The UDP frames of a capture in the scratch directory, as the handlers (quick start, keep.mjs) see them. */
function udpFrames(name: string): number {
  let udp = 0;
  new FrameParser().parse(readCaptureFile(path.join(dir, name)).records, (pkt) => void (pkt.udp && udp++));
  return udp;
}
const jsonl = (s: string): { n: number; rss?: string; errors?: string[] }[] => lines(s).map((l) => JSON.parse(l) as { n: number; rss?: string; errors?: string[] });
const report = (s: string): Record<string, number> => JSON.parse(s) as Record<string, number>;

interface Rule {
  match: RegExp;
  /** Why this line cannot run here; it is then checked statically only. */
  static?: string;
  /** Pipeline stages to skip (checked statically), with what stands for their output. */
  from?: number;
  input?: () => Buffer;
  /** A line this one runs beside: started first (as in another terminal), awaited after; its output is `r.beside`. */
  beside?: RegExp;
  /** The line is run by the rule of another (its `beside`). */
  runBy?: string;
  /** A command that runs until stopped: interrupted (SIGINT, as Ctrl-C) once its output says it did its part. */
  until?: (stdout: string) => boolean;
  check?: (r: Run) => void;
}

/** What the simulator said it sent: ITCH messages of feed.pcap, the digest of feed.pcapng. */
let feedMessages = -1;
let simDigest = '';

const TRACE_FRAMES = () => frames(path.join(dir, 'trace.pcap'));

/** Each command line's rule, the first whose pattern matches its text. Static ones, and why, first. */
const RULES: Rule[] = [
  // ---- static: what a test cannot have ----
  { match: /-(i|-iface) eth0\b/, static: 'a real NIC (eth0), root and live traffic' },
  { match: /^npx wirewasm (sub --nats \S+ wirewasm\.\*\.records\.> --jsonl|top --nats )/, static: 'a live consumer of what engines publish while it runs (tests/e2e/fleet-cli.test.ts runs sub --jsonl and top on a local cluster)' },
  { match: /^npm (install|test|pack)\b|^npm run setup:system\b|^cd \.\.\/my-service/, static: 'the project build/install itself (tests/e2e/package-install.test.ts installs the tarball)' },
  { match: /^npm run build:plugins\b/, static: 'rebuilds dist/plugins under the other tests; npm install runs it' },
  { match: /^npm run bench\b/, static: 'a benchmark: minutes of CPU, run by the coordinator' },
  { match: /^apt-get install\b/, static: "installs system packages (root, the network); the tools are in .ci/run's apt list" },
  { match: /^sudo npm start -- --testbed\b/, static: 'root and namespaces; tests/live/ runs the testbed' },
  { match: /^npm start -- --fleet\b/, static: 'a 3-node NATS cluster and two engines for its duration; tests/e2e/fleet-cli.test.ts runs it' },
  {
    match: /^npx wirewasm feed --(backend io_uring|transport (udp|tcp) --port 2640[02]|transport udp-multicast)\b|^npx wirewasm feed-sim --(backend io_uring|transport udp --port 26400|transport tcp)\b/,
    static: 'a client left running in one terminal while a simulator runs in another (tests/e2e/feed.test.ts runs client and simulator together)',
  },

  // ---- run ----
  { match: /^npx wirewasm feed --transport udp --line-a 127\.0\.0\.1:26410 --line-b 127\.0\.0\.1:26411 --line-timeout 500$/, runBy: 'the feed-sim line of its block' },
  {
    // A/B: the client misses exactly the messages the simulator dropped on both lines.
    match: /^npx wirewasm feed-sim --transport udp --port 26410 --port-b 26411 --lines 2 --line-drop 0\.05 --rate 100000 --duration 2$/,
    beside: /^npx wirewasm feed --transport udp --line-a 127\.0\.0\.1:26410/,
    check: (r) => {
      const [, sent, dropped] = /^sent (\d+) messages .* dropped (\d+) messages/m.exec(r.out[0])!;
      expect(Number(dropped)).toBeGreaterThan(0);
      expect(r.beside!.stdout).toMatch(new RegExp(`  total ${sent}  gaps ${dropped} \\(`));
      expect(r.beside!.stdout).toMatch(/^line A: received \d+.*\nline B: received \d+/m);
    },
  },
  // The stats display's last frame: frames went through and none was lost.
  { match: /^npm start$/, check: (r) => expect(lines(r.stderr).at(-1)).toMatch(/ delivered=[1-9]\d* dropped=0 /) },
  { match: /^npx wirewasm info$/, check: (r) => expect(r.out[0]).toMatch(/Kernel features[\s\S]*io_uring[\s\S]*Memory map \(/) },
  {
    match: /^npx wirewasm info --config c\.json$/,
    // c.json is the README's config example: the map is the one of its values.
    check: (r) => {
      const c = JSON.parse(readFileSync(path.join(dir, 'c.json'), 'utf8')) as Record<string, number>;
      expect(r.out[0]).toContain(`Memory map (${c.queues} queue(s), ${c.workers} worker(s), ${c.frameCount} frames × ${c.frameSize} B)`);
    },
  },
  { match: /^npx wirewasm --help$/, check: (r) => expect(r.out[0]).toMatch(/Commands:[\s\S]*dissect[\s\S]*replay[\s\S]*start/) },
  { match: /^npx wirewasm dissect capture\.pcapng$/, check: (r) => expect(lines(r.out[0])).toHaveLength(TRACE_FRAMES()) },
  {
    // The frames tcpdump's filter accepts, written as pcapng (capinfos reads it back).
    match: /^npx wirewasm dissect capture\.pcapng -w udp\.pcapng udp$/,
    check: () => {
      const out = path.join(dir, 'udp.pcapng');
      expect(execFileSync('capinfos', ['-t', out], { encoding: 'utf8' })).toMatch(/pcapng/);
      const kept = tcpdumpCount(path.join(dir, 'capture.pcapng'), 'udp');
      expect(kept).toBeGreaterThan(0);
      expect(Number(/Number of packets:\s+(\d+)/.exec(execFileSync('capinfos', ['-c', out], { encoding: 'utf8' }))![1])).toBe(kept);
    },
  },
  {
    match: /^npx wirewasm dissect capture\.pcap --format jsonl$/,
    check: (r) => expect(jsonl(r.out[0]).map((o) => o.n)).toEqual(Array.from({ length: TRACE_FRAMES() }, (_, i) => i + 1)),
  },
  {
    match: /^npx wirewasm dissect capture\.pcap --format jsonl --verify-checksums --symmetric --rss-key <80 hex digits>$/,
    check: (r) => {
      const objs = jsonl(r.out[0]);
      expect(objs).toHaveLength(TRACE_FRAMES());
      // The capture has frames with wrong IPv4 checksums: verified, they say so.
      expect(objs.some((o) => o.errors?.includes('bad-ip-checksum'))).toBe(true);
      // The key stands for the README's placeholder: 0x6d5a repeated, so each Toeplitz hash repeats its 16-bit half.
      const rss = objs.flatMap((o) => (o.rss ? [o.rss] : []));
      expect(rss.length).toBeGreaterThan(0);
      expect(rss.filter((h) => h.slice(2, 6) !== h.slice(6, 10))).toEqual([]);
    },
  },
  {
    match: /^tcpdump -i eth0 -w - \| npx wirewasm dissect -$/,
    from: 1, // tcpdump on eth0 is checked statically; a capture file stands for its output
    input: () => readFileSync(path.join(dir, 'trace.pcap')),
    check: (r) => expect(lines(r.out[0])).toHaveLength(TRACE_FRAMES()),
  },
  { match: /^npx wirewasm dissect usb\.pcap --linktype 1$/, check: (r) => expect(lines(r.out[0])).toHaveLength(TRACE_FRAMES()) },
  {
    match: /^npx wirewasm replay trace\.pcap --workers 2 --handler/,
    check: (r) => {
      const j = report(r.out[0]);
      expect(j.rx_packets).toBe(TRACE_FRAMES());
      expect(j.delivered).toBe(TRACE_FRAMES() - tcpdumpCount(path.join(dir, 'trace.pcap'), 'tcp'));
    },
  },
  {
    match: /^npx wirewasm replay trace\.pcap --rate 100000 --metrics-port 9464$/,
    check: (r) => {
      expect(r.stderr).toContain(`metrics on http://127.0.0.1:${ports.get('9464')}/metrics`);
      expect(lines(r.stderr).at(-1)).toMatch(new RegExp(` rx=${TRACE_FRAMES()} .* delivered=${TRACE_FRAMES()} dropped=0 `));
    },
  },
  {
    match: /^npx wirewasm replay trace\.pcap --handler \.\/handler\.mjs --records out\.jsonl$/,
    // The quick start's handler emits each burst's UDP count: they add up to the capture's UDP frames.
    check: () => {
      const values = lines(readFileSync(path.join(dir, 'out.jsonl'), 'utf8')).map((l) => JSON.parse(l) as unknown);
      const sum = values.reduce<number>((s, v) => s + Number((v as { value?: unknown }).value ?? v), 0);
      expect(sum).toBe(udpFrames('trace.pcap'));
    },
  },
  {
    match: /^npx wirewasm replay trace\.pcap -c 1000 && npx wirewasm dissect trace\.pcap -c 10$/,
    check: (r) => expect(lines(r.out[1])).toHaveLength(Math.min(10, TRACE_FRAMES())),
  },
  { match: /^npx wirewasm plugin check (dist\/plugins\/)?moldudp64\.wasm$/, check: (r) => expect(r.out[0]).toMatch(/^plugin\s+moldudp64\nABI\s+v1 \(ok\)/) },
  {
    // Every ITCH message the simulator sent to port 26400 is one record of the plugin.
    match: /^npx wirewasm replay feed\.pcap --plugin dist\/plugins\/moldudp64\.wasm,port=26400 --plugin-policy closed --json$/,
    check: (r) => {
      const plugin = (JSON.parse(r.out[0]) as { plugins: { name: string; records: number; errors: number }[] }).plugins[0];
      expect(plugin).toMatchObject({ name: 'moldudp64', records: feedMessages, errors: 0 });
    },
  },
  {
    // The plugin built by the lines above it, on a capture without port 26400: it runs, refusing nothing.
    match: /^npx wirewasm replay trace\.pcap --plugin moldudp64\.wasm,port=26400 --plugin-policy closed --json$/,
    check: (r) => {
      const j = JSON.parse(r.out[0]) as { delivered: number; plugins: { name: string; state: string; errors: number }[] };
      expect(j.delivered).toBe(TRACE_FRAMES());
      expect(j.plugins[0]).toMatchObject({ name: 'moldudp64', state: 'running', errors: 0 });
    },
  },
  {
    match: /^npx wirewasm feed-sim --transport udp --port 26403 .*-w feed\.pcapng$/,
    check: (r) => {
      simDigest = /^digest ([0-9a-f]{64})$/m.exec(r.out[0])![1];
      expect(frames(path.join(dir, 'feed.pcapng'))).toBeGreaterThan(0);
    },
  },
  {
    // The capture decodes to the very stream the simulator sent (its digest), without a gap.
    match: /^npx wirewasm feed --backend pcap --file feed\.pcapng --transport udp --port 26403 --json --digest$/,
    check: (r) => expect(JSON.parse(r.out[0])).toMatchObject({ digest: simDigest, gaps: 0 }),
  },
  {
    // The feed decodes the packets tcpdump's filter accepts; the others are counted filtered.
    match: /^npx wirewasm feed --backend pcap --file feed\.pcapng --transport udp --port 26403 --json udp\[25\] & 8 = 0$/,
    check: (r) => {
      const j = JSON.parse(r.out[0]) as { packets: number; filtered: number };
      const kept = tcpdumpCount(path.join(dir, 'feed.pcapng'), 'udp[25] & 8 = 0');
      expect(kept).toBeGreaterThan(0);
      expect(j.packets).toBe(kept);
      expect(j.filtered).toBe(frames(path.join(dir, 'feed.pcapng')) - kept);
    },
  },
  { match: /^npx wirewasm filter -d /, check: (r) => expect(r.out[0]).toMatch(/\(\d+\) ret[\s\S]*\(module/) },
  { match: /^npx wirewasm filter --bpf /, check: (r) => expect(r.out[0]).toMatch(/ret/) },
  { match: /^npx wirewasm filter --wasm /, check: (r) => expect(r.out[0]).toMatch(/^\(module/) },
  {
    match: /^npx wirewasm dissect trace\.pcap udp port 7001$/,
    check: (r) => expect(lines(r.out[0])).toHaveLength(tcpdumpCount(path.join(dir, 'trace.pcap'), 'udp port 7001')),
  },
  {
    match: /^npx wirewasm dissect trace\.pcap -F expr\.txt$/,
    check: (r) => expect(lines(r.out[0])).toHaveLength(tcpdumpCount(path.join(dir, 'trace.pcap'), EXPR)),
  },
  {
    match: /^npx wirewasm replay trace\.pcap --json tcp\[tcpflags\] & tcp-syn != 0$/,
    // The frames libpcap's filter accepts are delivered; every other frame is counted as filtered.
    check: (r) => {
      const j = JSON.parse(r.out[0]) as { delivered: number; dropped: { filtered: number } };
      const syn = tcpdumpCount(path.join(dir, 'trace.pcap'), 'tcp[tcpflags] & tcp-syn != 0');
      expect(syn).toBeGreaterThan(0);
      expect(j).toMatchObject({ delivered: syn, dropped: { filtered: TRACE_FRAMES() - syn } });
    },
  },
  {
    // keep.mjs keeps every UDP frame: each is one record, every one published (to JetStream: acknowledged).
    match: /^npx wirewasm replay a\.pcap --handler \.\/keep\.mjs --publish nats:\/\/n1:4222/,
    check: (r) => {
      const udp = udpFrames('a.pcap');
      expect(r.stderr).toMatch(new RegExp(`^published ${udp} of ${udp} records .*publish_dropped=0 `, 'm'));
      if (/--engine-id host-a/.test(r.argv)) expect(r.stderr).toMatch(/^wirewasm: publishing to .* as host-a /m);
      if (/--publish-stream RECORDS/.test(r.argv)) expect(r.stderr).toMatch(/\(jetstream stream RECORDS, on full: drop\)/);
    },
  },
  {
    // The durable consumer reads from the start of the stream the line above filled: every frame kept.
    match: /^npx wirewasm sub --nats nats:\/\/n1:4222 wirewasm\.host-b\.records\.frame --durable archive$/,
    until: (out) => [...out.matchAll(/\((\d+) records,/g)].reduce((n, m) => n + Number(m[1]), 0) >= udpFrames('a.pcap'),
    check: (r) => expect(r.stderr).toMatch(new RegExp(`^wirewasm sub: ${udpFrames('a.pcap')} records in \\d+ batches; skipped: 0 foreign, 0 malformed, 0 duplicate\n`, 'm')),
  },
  {
    match: /^npx asc examples\/plugins\/moldudp64\.ts /,
    check: () => expect(readFileSync(path.join(dir, 'moldudp64.wasm')).subarray(0, 4)).toEqual(Buffer.from('\0asm')),
  },
  {
    match: /^clang --target=wasm32 /,
    check: () => expect(readFileSync(path.join(dir, 'moldudp64-c.wasm')).subarray(0, 4)).toEqual(Buffer.from('\0asm')),
  },
];

/** expr.txt, for `dissect -F`: a comment line and an expression, as a reader would keep one. */
const EXPR = 'udp and not port 53';

const all = documents.flatMap(commandLines);
/** Lines in the order they are written: later lines use what earlier ones made (feed.pcapng, moldudp64.wasm). */
const ruleOf = (c: CommandLine): Rule | undefined => RULES.find((r) => r.match.test(c.text));

beforeAll(async () => {
  program = await addCommands(newProgram());
  for (const c of program.commands) c.exitOverride();
  // The inputs the commands name, in the directory they run in.
  for (const name of ['trace.pcap', 'capture.pcap', 'a.pcap', 'usb.pcap']) copyFileSync(trace, path.join(dir, name));
  execFileSync('editcap', ['-F', 'pcapng', trace, path.join(dir, 'capture.pcapng')]);
  const quick = /\/\/ handler\.mjs.*\n([\s\S]*?)```/.exec(readFileSync(artefact('README.md'), 'utf8'));
  writeFileSync(path.join(dir, 'handler.mjs'), quick![1].replace("from 'wirewasm'", `from ${JSON.stringify(artefact('dist/host/index.js'))}`));
  writeFileSync(path.join(dir, 'c.json'), /```json\n(.*)\n```/.exec(readFileSync(artefact('README.md'), 'utf8'))![1]);
  writeFileSync(path.join(dir, 'keep.mjs'), 'export default (burst) => {\n  for (let i = 0; i < burst.length; i++) if (burst.packet(i).udp) burst.keep(i);\n};\n');
  writeFileSync(path.join(dir, 'expr.txt'), `# the application's traffic, without DNS\n${EXPR}\n`);
  symlinkSync(artefact('dist'), path.join(dir, 'dist'));
  symlinkSync(artefact('examples'), path.join(dir, 'examples'));
  // feed.pcap for the plugin: a MoldUDP64 session as the simulator writes it (sent to a free port),
  // addressed to the README's port 26400 (IPv4 over Ethernet; UDP checksum 0: none).
  const sim = path.join(dir, 'sim.pcapng');
  const simReport = execFileSync(process.execPath, [cli, 'feed-sim', '--transport', 'udp', '--port', String(await freeUdpPort()), '--rate', '20000', '--duration', '0.5', '--json', '-w', sim], { cwd: dir, encoding: 'utf8' });
  feedMessages = (JSON.parse(simReport) as { messages_sent: number }).messages_sent;
  const sent = readCaptureFile(sim).records.map((r) => {
    const data = Buffer.from(r.data);
    data.writeUInt16BE(26400, 14 + 20 + 2);
    data.writeUInt16BE(0, 14 + 20 + 6);
    return { ...r, data };
  });
  writeFileSync(path.join(dir, 'feed.pcap'), writePcap(sent, { linktype: 1, nanosecond: true }));
  rmSync(sim);
  ports.set('9464', String(await freeTcpPort()));
  for (const port of ['26403', '26410', '26411']) ports.set(port, String(await freeUdpPort()));
}, 120_000);

async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', () => res()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

describe.skipIf(!existsSync(trace))('README and docs shell commands', () => {
  it('the documents have their command lines (the reader found them)', () => {
    expect(all.length).toBeGreaterThan(40);
    expect(all.some((c) => c.where.startsWith('docs/'))).toBe(true);
  });

  it('every command line is run here or declared static with its reason', () => {
    expect(all.filter((c) => !ruleOf(c)).map((c) => `${c.where}: ${c.text}`)).toEqual([]);
  });

  it('every command and option of every line exists (the CLI program, npm scripts, installed tools)', () => {
    const problems = all.flatMap((c) => c.steps.flat().map((argv) => staticProblem(argv)).filter(Boolean).map((p) => `${c.where}: ${p}`));
    expect(problems).toEqual([]);
  });

  for (const c of all) {
    const rule = ruleOf(c);
    if (!rule || rule.static || rule.runBy) continue;
    it(`${c.where} runs: ${c.text}`, async () => {
      let beside: Promise<{ stdout: string; stderr: string }> | undefined;
      if (rule.beside) {
        const other = all.find((o) => rule.beside!.test(o.text))!;
        let ready!: () => void;
        const listening = new Promise<void>((r) => (ready = r));
        beside = spawnStage(other.steps[0][0], undefined, undefined, ready);
        await Promise.race([listening, beside]); // a client that fails before it listens fails the test
      }
      const r = await run(c, { from: rule.from, input: rule.input?.(), until: rule.until });
      if (beside) r.beside = await beside;
      rule.check!(r);
    }, 120_000);
  }
});

describe('relative links', () => {
  it('every relative link of README.md and docs/*.md names a file that exists', () => {
    const broken: string[] = [];
    for (const doc of documents.concat('docs/cli.md')) {
      const text = readFileSync(artefact(doc), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const target = m[1].split('#')[0];
        if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        if (!existsSync(path.resolve(path.dirname(artefact(doc)), decodeURIComponent(target)))) broken.push(`${doc}: ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
