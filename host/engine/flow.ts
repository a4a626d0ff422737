// Flow-director rules on the host side: the text form the CLI takes (`--rule`), the object form the
// API takes, their encoding into the 64-byte rule of assembly/flow.ts, and the two-table
// read-copy-update that lets rules change while workers run.
//
// Text form: match terms, then `->` and actions, e.g.
//   "proto udp dport 5000-5100 -> queue 1, mark 7"
//   "src 10.0.0.0/8 dst 192.168.1.0/24 -> drop"
//   "vlan 100 -> class 0"        "ethertype arp -> drop"        "sport 53 -> queue 0"
import { isIP } from 'node:net';

export interface FlowMatch {
  /** Source prefix, e.g. "10.0.0.0/8", "2001:db8::/32", or one address. */
  src?: string;
  dst?: string;
  /** IP protocol: a number or tcp | udp | icmp | icmpv6 | sctp | igmp | gre. */
  proto?: number | string;
  /** One port or an inclusive range [lo, hi]. */
  sport?: number | [number, number];
  dport?: number | [number, number];
  /** Outer VLAN id. */
  vlan?: number;
  /** Ethertype after any VLAN tags: a number or ipv4 | ipv6 | arp | lldp. */
  ethertype?: number | string;
}

export interface FlowAction {
  /** Deliver to worker queue N (the dispatch queue of worker N). */
  queue?: number;
  drop?: boolean;
  /** Strict-priority class (0 is served first). */
  class?: number;
  /** Set the frame's meta `mark` to this value. */
  mark?: number;
}

export interface FlowRule extends FlowMatch {
  action: FlowAction;
  /** Lower goes first (default 0); equal priorities keep insertion order. */
  priority?: number;
}

export type FlowRuleInput = FlowRule | string;

export class FlowRuleError extends Error {
  constructor(rule: string, message: string) {
    super(`flow rule "${rule}": ${message}`);
    this.name = 'FlowRuleError';
  }
}

const PROTOCOLS: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, gre: 47, icmpv6: 58, sctp: 132 };
const ETHERTYPES: Record<string, number> = { ipv4: 0x0800, ip: 0x0800, arp: 0x0806, ipv6: 0x86dd, lldp: 0x88cc, vlan: 0x8100, mpls: 0x8847 };

export const FLOW_M = { SRC: 1, DST: 2, PROTO: 4, SPORT: 8, DPORT: 16, VLAN: 32, ETHERTYPE: 64 } as const;
export const FLOW_A = { QUEUE: 1, DROP: 2, CLASS: 4, MARK: 8 } as const;
export const FLOW_RULE_BYTES = 64;

function num(rule: string, what: string, text: string, max: number): number {
  const v = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(v) || v < 0 || v > max) throw new FlowRuleError(rule, `${what} "${text}" is not a whole number from 0 to ${max}`);
  return v;
}

function portRange(rule: string, what: string, text: string): [number, number] {
  const m = /^(\w+)(?:-(\w+))?$/.exec(text);
  if (!m) throw new FlowRuleError(rule, `${what} "${text}": write a port (53) or a range (1000-2000)`);
  const lo = num(rule, what, m[1], 65535);
  const hi = m[2] === undefined ? lo : num(rule, what, m[2], 65535);
  if (hi < lo) throw new FlowRuleError(rule, `${what} range ${lo}-${hi} is empty; write the low port first`);
  return [lo, hi];
}

/** Parses the text form. */
export function parseFlowRule(text: string): FlowRule {
  const [lhs, rhs] = text.split('->');
  if (rhs === undefined) throw new FlowRuleError(text, 'missing "->" and an action, e.g. "proto udp dport 53 -> queue 1"');
  const t = lhs.trim().split(/\s+/).filter(Boolean);
  const rule: FlowRule = { action: {} };
  for (let i = 0; i < t.length; i += 2) {
    const key = t[i].toLowerCase();
    const val = t[i + 1];
    if (val === undefined) throw new FlowRuleError(text, `"${key}" needs a value`);
    switch (key) {
      case 'src':
      case 'dst':
        rule[key] = val;
        break;
      case 'proto':
        rule.proto = val;
        break;
      case 'sport':
      case 'dport':
        rule[key] = portRange(text, key, val);
        break;
      case 'vlan':
        rule.vlan = num(text, 'vlan', val, 4095);
        break;
      case 'ethertype':
        rule.ethertype = val;
        break;
      case 'priority':
        rule.priority = num(text, 'priority', val, 1e9);
        break;
      default:
        throw new FlowRuleError(text, `unknown match "${key}"; use src, dst, proto, sport, dport, vlan, ethertype, priority`);
    }
  }
  for (const part of rhs.split(/[,;]/).map((s) => s.trim()).filter(Boolean)) {
    const [verb, arg] = part.split(/\s+/);
    switch (verb.toLowerCase()) {
      case 'drop':
        rule.action.drop = true;
        break;
      case 'queue':
        rule.action.queue = num(text, 'queue', arg ?? '', 63);
        break;
      case 'class':
        rule.action.class = num(text, 'class', arg ?? '', 3);
        break;
      case 'mark':
        rule.action.mark = num(text, 'mark', arg ?? '', 0xffffffff);
        break;
      default:
        throw new FlowRuleError(text, `unknown action "${verb}"; use queue N, drop, class C, mark M (comma-separated)`);
    }
  }
  if (Object.keys(rule.action).length === 0) throw new FlowRuleError(text, 'no action after "->"; use queue N, drop, class C or mark M');
  return rule;
}

function prefix(rule: string, what: string, text: string): { family: 4 | 6; bytes: Uint8Array; len: number } {
  const [addr, lenText] = text.split('/');
  const family = isIP(addr);
  if (family === 0) throw new FlowRuleError(rule, `${what} "${text}" is not an IPv4 or IPv6 address or prefix`);
  const max = family === 4 ? 32 : 128;
  const len = lenText === undefined ? max : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > max) throw new FlowRuleError(rule, `${what} prefix length "/${lenText}" must be 0..${max}`);
  const bytes = new Uint8Array(16);
  if (family === 4) addr.split('.').forEach((o, i) => (bytes[i] = Number(o)));
  else {
    const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
    const h = head ? head.split(':') : [];
    const tl = tail ? tail.split(':') : [];
    const groups = [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
    groups.forEach((g, i) => {
      const v = parseInt(g || '0', 16);
      bytes[2 * i] = v >> 8;
      bytes[2 * i + 1] = v & 255;
    });
  }
  return { family: family as 4 | 6, bytes, len };
}

const describe = (r: FlowRuleInput) => (typeof r === 'string' ? r : JSON.stringify(r));

/** Encodes a rule into its 64 bytes (assembly/flow.ts layout); checks queue/class against the engine. */
export function encodeFlowRule(input: FlowRuleInput, limits: { workers: number; classes: number }): Uint8Array {
  const r = typeof input === 'string' ? parseFlowRule(input) : input;
  const name = describe(input);
  if (!r || typeof r !== 'object' || !r.action || typeof r.action !== 'object') throw new FlowRuleError(name, 'a rule needs an action: {queue}, {drop: true}, {class} or {mark}');
  const b = new Uint8Array(FLOW_RULE_BYTES);
  const v = new DataView(b.buffer);
  let m = 0;
  let family = 0;
  for (const key of ['src', 'dst'] as const) {
    const text = r[key];
    if (text === undefined) continue;
    const p = prefix(name, key, text);
    if (family && family !== p.family) throw new FlowRuleError(name, 'src and dst must be of one family (both IPv4 or both IPv6)');
    family = p.family;
    m |= key === 'src' ? FLOW_M.SRC : FLOW_M.DST;
    b[key === 'src' ? 5 : 6] = p.len;
    b.set(p.bytes, key === 'src' ? 32 : 48);
  }
  b[4] = family;
  if (r.proto !== undefined) {
    const p = typeof r.proto === 'number' ? r.proto : PROTOCOLS[r.proto.toLowerCase()] ?? num(name, 'proto', r.proto, 255);
    if (!Number.isInteger(p) || p < 0 || p > 255) throw new FlowRuleError(name, `proto ${r.proto} is not 0..255 or a name (${Object.keys(PROTOCOLS).join(', ')})`);
    m |= FLOW_M.PROTO;
    b[7] = p;
  }
  for (const [key, off, bit] of [['sport', 8, FLOW_M.SPORT], ['dport', 12, FLOW_M.DPORT]] as const) {
    const pr = r[key];
    if (pr === undefined) continue;
    const [lo, hi] = typeof pr === 'number' ? [pr, pr] : pr;
    for (const x of [lo, hi]) if (!Number.isInteger(x) || x < 0 || x > 65535) throw new FlowRuleError(name, `${key} ${x} is not a port 0..65535`);
    if (hi < lo) throw new FlowRuleError(name, `${key} range ${lo}-${hi} is empty`);
    m |= bit;
    v.setUint16(off, lo, true);
    v.setUint16(off + 2, hi, true);
  }
  if (r.vlan !== undefined) {
    if (!Number.isInteger(r.vlan) || r.vlan < 0 || r.vlan > 4095) throw new FlowRuleError(name, `vlan ${r.vlan} is not 0..4095`);
    m |= FLOW_M.VLAN;
    v.setUint16(16, r.vlan, true);
  }
  if (r.ethertype !== undefined) {
    const e = typeof r.ethertype === 'number' ? r.ethertype : ETHERTYPES[r.ethertype.toLowerCase()] ?? num(name, 'ethertype', r.ethertype, 65535);
    if (!Number.isInteger(e) || e < 0 || e > 65535) throw new FlowRuleError(name, `ethertype ${r.ethertype} is not 0..0xffff or a name (${Object.keys(ETHERTYPES).join(', ')})`);
    m |= FLOW_M.ETHERTYPE;
    v.setUint16(18, e, true);
  }
  v.setUint32(0, m, true);
  const a = r.action;
  let act = 0;
  if (a.queue !== undefined) {
    if (!Number.isInteger(a.queue) || a.queue < 0 || a.queue >= limits.workers)
      throw new FlowRuleError(name, `queue ${a.queue} does not exist: the engine has ${limits.workers} worker queue(s), 0..${limits.workers - 1}`);
    act |= FLOW_A.QUEUE;
    v.setUint16(24, a.queue, true);
  }
  if (a.drop) act |= FLOW_A.DROP;
  if (a.class !== undefined) {
    if (!Number.isInteger(a.class) || a.class < 0 || a.class >= limits.classes)
      throw new FlowRuleError(name, `class ${a.class} does not exist: the engine has ${limits.classes} class(es); raise config.classes`);
    act |= FLOW_A.CLASS;
    b[26] = a.class;
  }
  if (a.mark !== undefined) {
    if (!Number.isInteger(a.mark) || a.mark < 0 || a.mark > 0xffffffff) throw new FlowRuleError(name, `mark ${a.mark} is not a u32`);
    act |= FLOW_A.MARK;
    v.setUint32(28, a.mark, true);
  }
  if (act === 0) throw new FlowRuleError(name, 'no action; use queue, drop, class or mark');
  v.setUint32(20, act, true);
  return b;
}

export interface InstalledRule {
  id: number;
  rule: FlowRuleInput;
  priority: number;
  bytes: Uint8Array;
}

/**
 * The two rule tables in the memory and their update protocol. Workers publish the generation they
 * saw at the start of each burst, before reading which table is active; after a flip, the host
 * waits until every running worker shows the new generation before it may write the old table.
 */
export class FlowTables {
  private rules: InstalledRule[] = [];
  private nextId = 1;
  private chain: Promise<void> = Promise.resolve();
  private readonly u32: Uint32Array;
  private readonly u8: Uint8Array;

  constructor(
    memory: WebAssembly.Memory,
    private readonly at: { control: number; tables: number; maxRules: number; limits: { workers: number; classes: number } },
    /** Generations seen by the running workers (undefined entries: not running, do not wait). */
    private readonly seen: () => (number | undefined)[],
  ) {
    this.u32 = new Uint32Array(memory.buffer);
    this.u8 = new Uint8Array(memory.buffer);
  }

  list(): { id: number; rule: FlowRuleInput }[] {
    return this.rules.map(({ id, rule }) => ({ id, rule }));
  }

  /** Checks and encodes a rule without installing it. */
  encode(rule: FlowRuleInput): Uint8Array {
    return encodeFlowRule(rule, this.at.limits);
  }

  /** Installs rules before workers start (no waiting). */
  installInitial(rules: readonly FlowRuleInput[]): number[] {
    const ids = rules.map((r) => this.insert(r));
    this.publish();
    return ids;
  }

  /** Adds a rule while running; resolves with its id once every worker uses the new table. */
  add(rule: FlowRuleInput): Promise<number> {
    let bytes: Uint8Array;
    try {
      bytes = this.encode(rule);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.update(() => this.insert(rule, bytes));
  }

  /** Removes a rule; resolves true once no worker can match it any more (false: no such id). */
  remove(id: number): Promise<boolean> {
    return this.update(() => {
      const i = this.rules.findIndex((r) => r.id === id);
      if (i < 0) return false;
      this.rules.splice(i, 1);
      return true;
    });
  }

  private insert(rule: FlowRuleInput, bytes = this.encode(rule)): number {
    if (this.rules.length >= this.at.maxRules) throw new FlowRuleError(describe(rule), `the table is full (${this.at.maxRules} rules); raise config.maxRules`);
    const priority = (typeof rule === 'string' ? parseFlowRule(rule).priority : rule.priority) ?? 0;
    const id = this.nextId++;
    let i = this.rules.length;
    while (i > 0 && this.rules[i - 1].priority > priority) i--;
    this.rules.splice(i, 0, { id, rule, priority, bytes });
    return id;
  }

  private update<T>(change: () => T): Promise<T> {
    const run = this.chain.then(async () => {
      const result = change();
      const gen = this.publish();
      await this.quiesce(gen);
      return result;
    });
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Writes the inactive table, flips `active`, bumps the generation; returns it. */
  private publish(): number {
    const c = this.at.control >> 2;
    const active = Atomics.load(this.u32, c) & 1;
    const next = active ^ 1;
    const base = this.at.tables + next * this.at.maxRules * FLOW_RULE_BYTES;
    this.rules.forEach((r, i) => this.u8.set(r.bytes, base + i * FLOW_RULE_BYTES));
    Atomics.store(this.u32, c + 2 + next, this.rules.length);
    Atomics.store(this.u32, c, next);
    return Atomics.add(this.u32, c + 1, 1) + 1;
  }

  private async quiesce(gen: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const lagging = this.seen().findIndex((g) => g !== undefined && ((g - gen) | 0) < 0);
      if (lagging < 0) return;
      if (Date.now() > deadline) throw new Error(`flow rules: worker ${lagging} did not pick up the new rule table within 10 s; it is stuck in its handler`);
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}
