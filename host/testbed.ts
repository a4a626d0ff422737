/**
 * A test bed of real network hosts: two fresh network namespaces joined by one veth pair, both
 * ends inside namespaces we made, with addresses of these test hosts only. Nothing touches the
 * machine's own interfaces.
 *
 * ```
 *   ns  <prefix>-<tag>-a                    ns  <prefix>-<tag>-b
 *   ┌──────────────────────┐                ┌──────────────────────┐
 *   │ <prefix><tag>a       │ ══ veth pair ══ │ <prefix><tag>b       │
 *   │ 10.77.<n>.1/24       │                │ 10.77.<n>.2/24       │
 *   └──────────────────────┘                └──────────────────────┘
 * ```
 *
 * Names carry the creating process's pid (`tag` = pid and a counter in base 36), so a bed left
 * behind by a killed process is recognised and removed by `sweepTestbeds()` without touching a
 * bed of a process still running. Every bed is destroyed on `destroy()`, on process exit and on
 * SIGINT/SIGTERM; deleting the namespaces deletes the veth ends inside them, and processes
 * started with `spawn` are killed by their pid first.
 *
 * Use:
 *   const bed = createTestbed({ prefix: 'wwio' });
 *   try { ... bed.a.ns, bed.a.iface, bed.a.ip, bed.b.mac ... } finally { bed.destroy(); }
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync } from 'node:fs';

export interface TestHost {
  /** Network namespace name (under /run/netns). */
  readonly ns: string;
  /** The veth end inside it. */
  readonly iface: string;
  /** IPv4 address (no prefix length). */
  readonly ip: string;
  /** MAC address "aa:bb:cc:dd:ee:ff". */
  readonly mac: string;
  readonly ifindex: number;
}

export interface TestbedOptions {
  /** Prefix of every name (letters and digits, 2-5 chars): one per subsystem, e.g. "wwio". */
  prefix?: string;
  /** RX/TX queues of each veth end (default 1). */
  queues?: number;
  /** MTU (default 1500). */
  mtu?: number;
  /** Add permanent neighbour entries both ways, so no ARP is needed (default true): needed when
   * one end's traffic is redirected to AF_XDP and its kernel never answers ARP. */
  staticNeighbours?: boolean;
}

export interface Testbed {
  readonly a: TestHost;
  readonly b: TestHost;
  /** Runs a command inside a namespace and returns its stdout; throws with stderr on failure. */
  exec(ns: string, cmd: string, args: string[]): string;
  /** Starts a process inside a namespace; it is killed (by pid) when the bed is destroyed. */
  spawn(ns: string, cmd: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Kills our processes, deletes both namespaces (and so the veth pair). Idempotent. */
  destroy(): void;
}

const live = new Set<Testbed>();
let counter = 0;
let hooked = false;

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const t of [...live]) t.destroy();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const t of [...live]) t.destroy();
      process.kill(process.pid, sig);
    });
  }
}

function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new Error('testbed: creating network namespaces and veth pairs needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN); run the tests as root');
}

export function createTestbed(options: TestbedOptions = {}): Testbed {
  requireRoot();
  const prefix = options.prefix ?? 'wwio';
  if (!/^[a-z][a-z0-9]{1,4}$/.test(prefix)) throw new Error(`testbed: prefix "${prefix}": use 2-5 lowercase letters/digits, e.g. "wwio"`);
  const queues = options.queues ?? 1;
  const n = counter++;
  const tag = `${process.pid.toString(36)}x${n.toString(36)}`;
  const nsA = `${prefix}-${tag}-a`;
  const nsB = `${prefix}-${tag}-b`;
  const ifA = `${prefix}${tag}a`;
  const ifB = `${prefix}${tag}b`;
  if (ifA.length > 15) throw new Error(`testbed: interface name ${ifA} is longer than 15 characters; use a shorter prefix`);
  const subnet = `10.77.${(n % 250) + 1}`;
  const children = new Set<ChildProcess>();
  let destroyed = false;

  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    for (const c of children) {
      if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    for (const ns of [nsA, nsB]) {
      try {
        ip(['netns', 'del', ns]);
      } catch {
        /* not created, or already gone */
      }
    }
    live.delete(bed);
  };

  const exec = (ns: string, cmd: string, args: string[]) => {
    try {
      return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`testbed: ${cmd} ${args.join(' ')} in ${ns} failed: ${err.stderr?.trim() || err.message}`, { cause: e });
    }
  };

  const bed: Testbed = {
    a: undefined as unknown as TestHost,
    b: undefined as unknown as TestHost,
    exec,
    spawn(ns, cmd, args, spawnOptions = {}) {
      const c = spawn('ip', ['netns', 'exec', ns, cmd, ...args], spawnOptions);
      children.add(c);
      return c;
    },
    destroy,
  };
  live.add(bed);
  hookExit();

  try {
    ip(['netns', 'add', nsA]);
    ip(['netns', 'add', nsB]);
    // Created directly inside the namespaces: the pair never exists in the root namespace.
    const q = String(queues);
    ip(['link', 'add', ifA, 'netns', nsA, 'numtxqueues', q, 'numrxqueues', q, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB, 'numtxqueues', q, 'numrxqueues', q]);
    const hosts: TestHost[] = [];
    for (const [ns, ifc, host] of [[nsA, ifA, 1], [nsB, ifB, 2]] as const) {
      exec(ns, 'ip', ['link', 'set', 'lo', 'up']);
      exec(ns, 'ip', ['addr', 'add', `${subnet}.${host}/24`, 'dev', ifc]);
      if (options.mtu) exec(ns, 'ip', ['link', 'set', ifc, 'mtu', String(options.mtu)]);
      exec(ns, 'ip', ['link', 'set', ifc, 'up']);
      const info = JSON.parse(exec(ns, 'ip', ['-j', 'link', 'show', ifc]))[0] as { ifindex: number; address: string };
      hosts.push({ ns, iface: ifc, ip: `${subnet}.${host}`, mac: info.address, ifindex: info.ifindex });
    }
    if (options.staticNeighbours ?? true) {
      exec(nsA, 'ip', ['neigh', 'replace', hosts[1].ip, 'lladdr', hosts[1].mac, 'dev', ifA, 'nud', 'permanent']);
      exec(nsB, 'ip', ['neigh', 'replace', hosts[0].ip, 'lladdr', hosts[0].mac, 'dev', ifB, 'nud', 'permanent']);
    }
    Object.assign(bed, { a: hosts[0], b: hosts[1] });
  } catch (e) {
    destroy();
    throw e;
  }
  return bed;
}

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes namespaces with this prefix left by processes that no longer run (killed mid-test).
 * Beds of running processes, and anything not named by createTestbed, are left alone.
 */
export function sweepTestbeds(prefix = 'wwio'): string[] {
  let names: string[];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return [];
  }
  const re = new RegExp(`^${prefix}-([0-9a-z]+)x[0-9a-z]+-[ab]$`);
  const removed: string[] = [];
  for (const name of names) {
    const m = re.exec(name);
    if (!m) continue;
    const pid = parseInt(m[1], 36);
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      ip(['netns', 'del', name]);
      removed.push(name);
    } catch {
      /* raced with another sweeper */
    }
  }
  return removed;
}

/**
 * Namespaces and veth interfaces with this prefix visible from the root namespace, made by
 * process `pid` (default: this one; 'any' for every process: other suites may share a prefix).
 */
export function leftovers(prefix = 'wwio', pid: number | 'any' = process.pid): { namespaces: string[]; veths: string[] } {
  const tag = pid === 'any' ? '' : pid.toString(36) + 'x';
  let namespaces: string[] = [];
  try {
    namespaces = readdirSync('/run/netns').filter((n) => n.startsWith(`${prefix}-${tag}`));
  } catch {
    /* no /run/netns: none */
  }
  const veths = (JSON.parse(ip(['-j', 'link', 'show', 'type', 'veth']) || '[]') as { ifname: string }[])
    .map((l) => l.ifname)
    .filter((n) => n.startsWith(prefix + tag));
  return { namespaces, veths };
}
