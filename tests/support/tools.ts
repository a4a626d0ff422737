// System tools the tests run as references (tshark, tcpdump, promtool, ...), each with the Debian
// package that provides it. A test that needs a missing tool is skipped with one line naming the
// package, instead of failing on a mismatch that only says the tool was absent.
// `npm run setup:system` (scripts/setup-system.mjs) installs every package listed here.
import { spawnSync } from 'node:child_process';

/** Tool -> the Debian package that installs it. */
export const TOOL_PACKAGES = {
  tshark: 'tshark',
  dumpcap: 'tshark',
  capinfos: 'tshark',
  editcap: 'tshark',
  mergecap: 'tshark',
  tcpdump: 'tcpdump',
  promtool: 'prometheus',
  'nats-server': 'nats-server',
  clang: 'clang',
  'wasm-ld': 'lld',
  ip: 'iproute2',
} as const;
export type Tool = keyof typeof TOOL_PACKAGES;

const found = new Map<Tool, boolean>();

/** Whether `tool` is on PATH and runs (asked once per process). */
export function hasTool(tool: Tool): boolean {
  let ok = found.get(tool);
  if (ok === undefined) {
    // `command -v` finds the program without running it: some tools have no --version (ip, promtool's is slow).
    ok = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
    found.set(tool, ok);
  }
  return ok;
}

/** The one-line reason to skip when any of `tools` is missing, or undefined when all are there. */
export function missingTools(...tools: Tool[]): string | undefined {
  const lack = tools.filter((t) => !hasTool(t));
  if (lack.length === 0) return undefined;
  const pkgs = [...new Set(lack.map((t) => TOOL_PACKAGES[t]))];
  return `skipped: ${lack.join(', ')} not found — apt-get install ${pkgs.join(' ')} (or npm run setup:system)`;
}

/** For `describe.skipIf(lacks('tshark'))(...)`: true when a tool is missing, after printing why. */
export function lacks(...tools: Tool[]): boolean {
  const why = missingTools(...tools);
  if (why) process.stderr.write(`${why}\n`);
  return why !== undefined;
}
