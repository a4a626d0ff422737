// The process's effective capabilities and memlock limit, read from /proc: what decides whether
// AF_XDP, AF_PACKET and BPF will open for us, independent of what the kernel supports.
import { readFileSync } from 'node:fs';

export const CAPS = { CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_IPC_LOCK: 14, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 } as const;
export type CapName = keyof typeof CAPS;

export function effectiveCapabilities(): Set<CapName> {
  const status = readFileSync('/proc/self/status', 'utf8');
  const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0';
  const bits = BigInt('0x' + hex);
  const have = new Set<CapName>();
  for (const [name, bit] of Object.entries(CAPS)) if ((bits >> BigInt(bit)) & 1n) have.add(name as CapName);
  return have;
}

/** RLIMIT_MEMLOCK soft limit in bytes, or Infinity when unlimited. */
export function memlockLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const m = /^Max locked memory\s+(\S+)/m.exec(limits);
  if (!m || m[1] === 'unlimited') return Infinity;
  return Number(m[1]);
}

/** Which capabilities each feature needs (any one set of the alternatives). */
export const NEEDS: Record<string, CapName[][]> = {
  afXdp: [['CAP_NET_RAW', 'CAP_NET_ADMIN', 'CAP_BPF'], ['CAP_NET_RAW', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN']],
  afPacket: [['CAP_NET_RAW']],
  ioUring: [[]],
  bpf: [['CAP_BPF'], ['CAP_SYS_ADMIN']],
};

export function missingFor(feature: string, have: Set<CapName>): CapName[] {
  const options = NEEDS[feature] ?? [[]];
  let best: CapName[] | undefined;
  for (const set of options) {
    const missing = set.filter((c) => !have.has(c));
    if (!best || missing.length < best.length) best = missing;
  }
  return best ?? [];
}
