// Loading: read, validate and compile a plugin once on the main thread. The compiled
// WebAssembly.Module is what workers receive (it can be posted); nothing of the plugin runs here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { COPY_MODES, DEFAULT_MEMORY_LIMIT, type CopyMode, type Policy } from './abi.js';
import { PluginRefused, validatePlugin, type PluginShape } from './validate.js';

export interface PluginRoute {
  /** Flow-director mark (META_MARK) of the rule whose packets this plugin parses. */
  mark?: number;
  /** TCP/UDP/SCTP source or destination port. With neither: every packet. */
  port?: number;
}

export interface PluginSpec {
  /** A .wasm file; or give `bytes`. */
  path?: string;
  bytes?: Uint8Array;
  /** Default: the file's base name without .wasm. */
  name?: string;
  /** Not isolated: the plugin works in the engine's shared memory, no copy (docs/plugins.md). */
  trusted?: boolean;
  /** What an isolated plugin gets copied, from that layer to the end of the capture. Default payload. */
  copy?: CopyMode;
  /** What happens to its packets while it restarts or is quarantined. Default open (they pass). */
  policy?: Policy;
  route?: PluginRoute;
  /** Largest memory an isolated plugin may declare (bytes, default 16 MiB). */
  memoryLimit?: number;
  /** Bytes of the input region the host asks for (default 256 KiB): a burst goes in one copy if it fits. */
  inputBytes?: number;
  /** Failures within `failureWindowMs` that quarantine the plugin (default 5 in 10 s). */
  maxFailures?: number;
  failureWindowMs?: number;
  /** Back-off before a restart: initial, doubled per consecutive failure, capped (default 10 ms .. 5 s). */
  backoffMs?: number;
  backoffMaxMs?: number;
}

/** A validated, compiled plugin: plain data plus a Module, so it can be posted to workers. */
export interface LoadedPlugin {
  name: string;
  module: WebAssembly.Module;
  trusted: boolean;
  copy: CopyMode;
  policy: Policy;
  route: { mark: number; port: number };
  memoryLimit: number;
  inputBytes: number;
  maxFailures: number;
  failureWindowMs: number;
  backoffMs: number;
  backoffMaxMs: number;
  hasInit: boolean;
  hasTick: boolean;
  hasBurst: boolean;
}

export interface LoadOptions {
  /** Trusted plugins: the engine memory's maximum in pages, which their memory import must accept. */
  engineMaxPages?: number;
}

function check(name: string, what: string, v: number | undefined, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new PluginRefused(name, `${what}: got ${v}; use a whole number from ${min} to ${max}`);
  return v;
}

export function loadPlugin(spec: PluginSpec, opts: LoadOptions = {}): LoadedPlugin {
  const name = spec.name ?? (spec.path ? path.basename(spec.path).replace(/\.wasm$/, '') : 'plugin');
  let bytes = spec.bytes;
  if (!bytes) {
    if (!spec.path) throw new PluginRefused(name, 'give a path or bytes');
    try {
      bytes = new Uint8Array(readFileSync(spec.path));
    } catch (e) {
      throw new PluginRefused(name, `cannot read ${spec.path}: ${(e as Error).message}`);
    }
  }
  const copy = spec.copy ?? 'payload';
  if (!(copy in COPY_MODES)) throw new PluginRefused(name, `copy: got "${copy}"; use payload, l4, l3 or frame`);
  const policy = spec.policy ?? 'open';
  if (policy !== 'open' && policy !== 'closed') throw new PluginRefused(name, `policy: got "${policy}"; use open or closed`);
  const memoryLimit = check(name, 'memoryLimit', spec.memoryLimit, 65536, 2 ** 32, DEFAULT_MEMORY_LIMIT);
  const trusted = spec.trusted ?? false;
  const shape: PluginShape = validatePlugin(bytes, { name, trusted, memoryLimit, engineMaxPages: opts.engineMaxPages });
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new PluginRefused(name, `does not compile: ${(e as Error).message}`);
  }
  return {
    name,
    module,
    trusted,
    copy,
    policy,
    route: { mark: check(name, 'route.mark', spec.route?.mark, 0, 2 ** 32 - 1, 0), port: check(name, 'route.port', spec.route?.port, 0, 65535, 0) },
    memoryLimit,
    inputBytes: check(name, 'inputBytes', spec.inputBytes, 4096, memoryLimit, 256 * 1024),
    maxFailures: check(name, 'maxFailures', spec.maxFailures, 1, 1_000_000, 5),
    failureWindowMs: check(name, 'failureWindowMs', spec.failureWindowMs, 1, 86_400_000, 10_000),
    backoffMs: check(name, 'backoffMs', spec.backoffMs, 0, 60_000, 10),
    backoffMaxMs: check(name, 'backoffMaxMs', spec.backoffMaxMs, 0, 600_000, 5_000),
    hasInit: shape.hasInit,
    hasTick: shape.hasTick,
    hasBurst: shape.hasBurst,
  };
}
