// Runs a DPDK scenario (tests/support/dpdk-child.mjs) in its own process, optionally inside a
// network namespace, and hands its JSON events to the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { artefact } from '../../host/paths.js';
import { dpdkAddonPath } from '../../host/backends/dpdk.js';

export const dpdkBuilt = dpdkAddonPath() !== undefined;

export interface DpdkChild {
  readonly proc: ChildProcess;
  /** Resolves with the first event of this name (rejects on an error event or exit before it). */
  waitFor(event: string, timeoutMs?: number): Promise<Record<string, any>>;
  /** Resolves with every event once the process exits, and its exit code/signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; events: Record<string, any>[]; stderr: string }>;
}

/** `script`: the scenario file under tests/support (default dpdk-child.mjs, the backend's; dpdk-engine-child.mjs the engine's). */
export function runDpdkChild(scenario: string, options: object, netns?: string, script = 'dpdk-child.mjs'): DpdkChild {
  const args = ['--expose-gc', artefact(`tests/support/${script}`), scenario, JSON.stringify(options)];
  const proc = netns ? spawn('ip', ['netns', 'exec', netns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, any>[] = [];
  const waiters: { name: string; resolve: (e: Record<string, any>) => void; reject: (e: Error) => void }[] = [];
  let buf = '';
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  proc.stdout!.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let e: Record<string, any>;
      try {
        e = JSON.parse(line);
      } catch {
        continue; // a PMD's own log line on stdout
      }
      events.push(e);
      for (const w of [...waiters]) {
        if (e.event === 'error') w.reject(new Error(`dpdk child: ${e.message}\n${e.stack}\n${stderr}`));
        else if (e.event === w.name) w.resolve(e);
        else continue;
        waiters.splice(waiters.indexOf(w), 1);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; events: Record<string, any>[]; stderr: string }>((resolve) => {
    proc.on('exit', (code, signal) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`dpdk child exited (${code ?? signal}) before "${w.name}": ${stderr}`));
      resolve({ code, signal, events, stderr });
    });
  });
  return {
    proc,
    exited,
    waitFor(name, timeoutMs = 60_000) {
      const have = events.find((e) => e.event === name);
      if (have) return Promise.resolve(have);
      const err = events.find((e) => e.event === 'error');
      if (err) return Promise.reject(new Error(`dpdk child: ${err.message}`));
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`dpdk child: no "${name}" within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        waiters.push({ name, resolve: (e) => (clearTimeout(t), resolve(e)), reject: (e) => (clearTimeout(t), reject(e)) });
      });
    },
  };
}

/** FNV-1a 32-bit, the JS reference for the WebAssembly checksum in the child. */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}
