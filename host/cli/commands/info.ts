// `wirewasm info`: the memory map a config produces and what this kernel offers this process.
import type { Command } from 'commander';
import os from 'node:os';
import { loadConfigFile } from '../../config.js';
import { computeLayout, describeLayout } from '../../layout.js';
import { loadNative } from '../../native.js';
import { effectiveCapabilities, memlockLimit, missingFor } from '../../privileges.js';
import { bytes, hex, table } from '../format.js';

const FEATURES: [key: 'afXdp' | 'afPacket' | 'ioUring' | 'bpf', label: string][] = [
  ['afXdp', 'AF_XDP sockets'],
  ['afPacket', 'AF_PACKET (PACKET_MMAP)'],
  ['ioUring', 'io_uring'],
  ['bpf', 'BPF program loading'],
];

export function gatherInfo(configFile?: string) {
  const config = configFile ? loadConfigFile(configFile) : {};
  const layout = computeLayout(config);
  const native = loadNative();
  const probe = native.probeKernel();
  const caps = effectiveCapabilities();
  const kernel = Object.fromEntries(
    FEATURES.map(([k]) => [k, { ...probe[k], missingCapabilities: missingFor(k, caps) }]),
  );
  return {
    version: native.version,
    kernel: { release: os.release(), machine: os.machine() },
    capabilities: [...caps].sort(),
    memlockLimit: memlockLimit(),
    features: kernel,
    layout: {
      totalBytes: layout.totalBytes,
      maximumBytes: layout.maximumPages * 65536,
      config: layout.config,
      regions: describeLayout(layout),
    },
  };
}

export function register(program: Command): void {
  program
    .command('info')
    .description('print the memory map for a config and what this kernel offers (probed, not assumed)')
    .option('-c, --config <file>', 'engine config (JSON) whose memory map to print')
    .option('--json', 'print one JSON object')
    .action((opts: { config?: string; json?: boolean }) => {
      const info = gatherInfo(opts.config);
      if (opts.json) {
        process.stdout.write(JSON.stringify(info, (_k, v) => (v === Infinity ? 'unlimited' : v)) + '\n');
        return;
      }
      const out: string[] = [];
      out.push(`wirewasm ${info.version} on Linux ${info.kernel.release} (${info.kernel.machine})`, '');
      out.push('Kernel features (probed by opening each):');
      const rows = [['feature', 'status', 'detail']];
      for (const [k, label] of FEATURES) {
        const f = info.features[k] as { ok: boolean; code?: string; error?: string; detail?: string; missingCapabilities: string[] };
        const status = f.ok ? 'available' : `unavailable (${f.code})`;
        const why = f.ok ? (f.detail ?? '') : f.missingCapabilities.length ? `needs ${f.missingCapabilities.join(' + ')}: run as root or grant them (setcap)` : (f.error ?? '');
        rows.push([`  ${label}`, status, why]);
      }
      out.push(table(rows), '');
      out.push(`Capabilities: ${info.capabilities.length ? info.capabilities.join(', ') : 'none'}`);
      out.push(`Locked-memory limit: ${info.memlockLimit === Infinity ? 'unlimited' : bytes(info.memlockLimit)}`, '');
      const c = info.layout.config;
      out.push(`Memory map (${c.queues} queue(s), ${c.workers} worker(s), ${c.frameCount} frames × ${c.frameSize} B): ${bytes(info.layout.totalBytes)}, maximum ${bytes(info.layout.maximumBytes)}`);
      out.push(table([['  region', 'offset', 'size'], ...info.layout.regions.map((r) => [`  ${r.region}`, hex(r.offset), bytes(r.size)])]));
      process.stdout.write(out.join('\n') + '\n');
    });
}
