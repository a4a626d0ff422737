// Checks a plugin against ABI v1 before anything of it runs: the marker, the exports and their
// signatures, every import, and the memory it may use. A refusal names what is wrong and the fix.
import { readModuleShape, type FuncSignature, type ModuleShape } from '../wasm-binary.js';
import { ALLOWED_IMPORTS, DEFAULT_MEMORY_LIMIT, MARKER, OPTIONAL_EXPORTS, REQUIRED_EXPORTS, TRUSTED_MEMORY_IMPORT } from './abi.js';

const PAGE = 65536;

export class PluginRefused extends Error {
  constructor(
    readonly plugin: string,
    readonly reason: string,
  ) {
    super(`plugin ${plugin} refused: ${reason}`);
    this.name = 'PluginRefused';
  }
}

export interface ValidateOptions {
  /** Plugin name for messages. */
  name: string;
  trusted?: boolean;
  /** Largest memory an isolated plugin may declare, in bytes (default 16 MiB). */
  memoryLimit?: number;
  /** Trusted mode: the engine memory's maximum in pages, which the import must accept. */
  engineMaxPages?: number;
}

export interface PluginShape {
  shape: ModuleShape;
  hasInit: boolean;
  hasTick: boolean;
  hasBurst: boolean;
  usesAbort: boolean;
}

const sig = (s: FuncSignature | { params: readonly string[]; results: readonly string[] }) => `(${s.params.join(', ')}) -> (${s.results.join(', ')})`;
const same = (a: FuncSignature | undefined, b: { params: readonly string[]; results: readonly string[] }) =>
  !!a && a.params.join() === b.params.join() && a.results.join() === b.results.join();

export function validatePlugin(bytes: Uint8Array, opts: ValidateOptions): PluginShape {
  function refuse(reason: string): never {
    throw new PluginRefused(opts.name, reason);
  }
  let shape: ModuleShape;
  try {
    shape = readModuleShape(bytes);
  } catch (e) {
    return refuse((e as Error).message);
  }
  const exported = new Map(shape.exports.map((e) => [e.name, e]));

  if (!exported.has(MARKER))
    refuse(`missing export "${MARKER}": every plugin exports this marker function (no parameters, no result) to say it was built for ABI v1`);
  for (const [name, want] of Object.entries({ ...REQUIRED_EXPORTS, ...OPTIONAL_EXPORTS })) {
    const e = exported.get(name);
    if (!e) {
      if (name in REQUIRED_EXPORTS) refuse(`missing export "${name}" ${sig(want)}: see docs/plugins.md, "Exports"`);
      continue;
    }
    if (e.kind !== 'function') refuse(`export "${name}" is a ${e.kind}; it must be a function ${sig(want)}`);
    if (!same(e.signature, want)) refuse(`export "${name}" has type ${e.signature ? sig(e.signature) : '?'}; ABI v1 wants ${sig(want)}`);
  }

  let importsMemory = false;
  for (const imp of shape.imports) {
    const key = `${imp.module}.${imp.name}`;
    if (opts.trusted && key === TRUSTED_MEMORY_IMPORT && imp.kind === 'memory') {
      importsMemory = true;
      if (!imp.memory!.shared) refuse(`imports ${key} as an unshared memory; the engine's memory is shared: build with --sharedMemory (AS) or -Wl,--shared-memory (clang)`);
      if (imp.memory!.max !== undefined && opts.engineMaxPages !== undefined && imp.memory!.max < opts.engineMaxPages)
        refuse(`imports ${key} with a maximum of ${imp.memory!.max} pages, below the engine memory's ${opts.engineMaxPages}; raise the plugin's maximum (AS: --maximumMemory 65536)`);
      continue;
    }
    if (key === TRUSTED_MEMORY_IMPORT && imp.kind === 'memory')
      refuse(`imports ${key}: an isolated plugin defines and exports its own memory; build without --importMemory, or load it as trusted (not isolated)`);
    const want = ALLOWED_IMPORTS[key];
    if (!want || imp.kind !== 'function')
      refuse(`forbidden import ${imp.module}.${imp.name} (${imp.kind}); a plugin may import only ${Object.keys(ALLOWED_IMPORTS).join(', ')}${opts.trusted ? ` and ${TRUSTED_MEMORY_IMPORT}` : ''}`);
    if (!same(imp.signature, want)) refuse(`import ${key} has type ${imp.signature ? sig(imp.signature) : '?'}; ABI v1 provides ${sig(want)}`);
  }

  if (opts.trusted) {
    if (!importsMemory) refuse(`a trusted plugin imports the engine's shared memory as ${TRUSTED_MEMORY_IMPORT}; build with --importMemory --sharedMemory (AS)`);
    if (shape.memories.length > 0) refuse(`a trusted plugin must not define a memory of its own; it works in the engine's`);
    // Data segments would be written into the engine's memory at instantiation, over live frames.
    if (shape.dataSegments > 0)
      refuse(`${shape.dataSegments} data segment(s) would be written into the engine's memory at instantiation; a trusted plugin must have no static data (AS: --use abort= and no string or array literals)`);
  } else {
    const mem = exported.get('memory');
    if (!mem || mem.kind !== 'memory') refuse(`missing export "memory": an isolated plugin exports its own memory (AS does by default; clang: -Wl,--export-memory is the default for wasm-ld)`);
    if (shape.memories.length === 0) refuse(`exports a memory it does not define; an isolated plugin defines its own`);
    const limit = opts.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
    // Every memory it defines (multi-memory modules too) is bounded.
    for (const m of shape.memories) {
      if (m.max === undefined)
        refuse(`its memory has no maximum; declare one of at most ${limit / PAGE} pages (${limit} bytes): AS --maximumMemory N, clang -Wl,--max-memory=BYTES`);
      if (m.max * PAGE > limit)
        refuse(`its memory maximum is ${m.max} pages (${m.max * PAGE} bytes), above the limit of ${limit / PAGE} pages (${limit} bytes); lower it or raise the limit`);
    }
  }
  return {
    shape,
    hasInit: exported.has('wirewasm_init'),
    hasTick: exported.has('wirewasm_on_tick'),
    hasBurst: exported.has('wirewasm_on_burst'),
    usesAbort: shape.imports.some((i) => i.module === 'env' && i.name === 'abort'),
  };
}
