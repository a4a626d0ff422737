// Loads the node-addon-api addon built by `npm install` (node-gyp -> build/Release).
import { createRequire } from 'node:module';
import { artefact } from './paths.js';

export interface ProbeResult {
  ok: boolean;
  code?: string;
  error?: string;
  detail?: string;
}

export interface NativeAddon {
  version: string;
  memoryBase(memory: WebAssembly.Memory): bigint;
  memoryLength(memory: WebAssembly.Memory): number;
  probeKernel(): { afXdp: ProbeResult; afPacket: ProbeResult; ioUring: ProbeResult & { features?: number }; bpf: ProbeResult };
  // Backends add their functions here; see native/addon.h.
  [name: string]: unknown;
}

let cached: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const file = artefact('build/Release/wirewasm.node');
  try {
    cached = require(file) as NativeAddon;
  } catch (e) {
    throw new Error(`wirewasm: the native addon is not built (${file}): run \`npm install\` (or \`npm run build:native\`); cause: ${(e as Error).message}`, { cause: e });
  }
  return cached;
}
