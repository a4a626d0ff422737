// Loads the node-addon-api addon the ecosystem's way: node-gyp-build takes build/Release/ when a
// node-gyp build is there (a checkout after `npm run build:native`), otherwise the prebuilt binary
// for this platform in prebuilds/<platform>-<arch>/ (made by `npm run prebuild` with prebuildify,
// shipped in the tarball). An addon with its own gyp project (its own binding.gyp in a directory of
// native/) is loaded the same way with loadAddon(that directory): node-gyp-build picks the first
// binary of a directory, so each addon keeps build/ and prebuilds/ of its own.
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from './paths.js';

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

type NodeGypBuild = { (dir: string): unknown; resolve(dir: string): string };
const nodeGypBuild = (): NodeGypBuild => createRequire(import.meta.url)('node-gyp-build') as NodeGypBuild;

/** The file of the addon whose gyp project is `dir` (for a worker that loads it by path). */
export function addonPath(dir = '.'): string {
  return nodeGypBuild().resolve(path.resolve(packageRoot, dir));
}

/** Loads the addon whose gyp project is `dir` (relative to the package root: '.' is wirewasm.node). */
export function loadAddon<T>(dir: string): T {
  const where = path.resolve(packageRoot, dir);
  try {
    return nodeGypBuild()(where) as T;
  } catch (e) {
    throw new Error(
      `wirewasm: no native addon loads from ${where} (build/Release or prebuilds/${process.platform}-${process.arch}): run \`npm install\` in a checkout (or \`npm run prebuild\`), or reinstall the package so it compiles one; cause: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

export function loadNative(): NativeAddon {
  cached ??= loadAddon<NativeAddon>('.');
  return cached;
}
