// Compiles the engine module once; every worker instantiates that same module over the one shared
// memory (raw instantiation: `--bindings esm` would instantiate itself and cannot take our memory).
import { readFileSync } from 'node:fs';
import { artefact } from './paths.js';
import type { EngineExports } from './abi.js';

export type { EngineExports } from './abi.js';


const compiled = new Map<string, WebAssembly.Module>();

export function engineWasmPath(debug = false): string {
  return artefact(`dist/wasm/engine${debug ? '.debug' : ''}.wasm`);
}

export function compileEngine(debug = false): WebAssembly.Module {
  const file = engineWasmPath(debug);
  let m = compiled.get(file);
  if (!m) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new Error(`wirewasm: ${file} is missing: run \`npm install\` (or \`npm run build:wasm\`)`, { cause: e });
    }
    m = new WebAssembly.Module(new Uint8Array(bytes));
    compiled.set(file, m);
  }
  return m;
}

/** The filter's burst function as the engine imports it (host/filter/translate.ts filterBurst). */
export type FilterBurst = (list: number, count: number, metaBase: number, verdicts: number) => number;

/** What an engine without a filter links as filter.burst: never called, since OPT.FILTER is unset. */
const noFilter: FilterBurst = () => {
  throw new Error('engine: filter.burst called without a filter (the header says OPT.FILTER but no filter module was linked)');
};

/** The engine module's imports: the shared memory and, when the engine filters, the filter's burst export. */
export const engineImports = (memory: WebAssembly.Memory, filterBurst: FilterBurst = noFilter): WebAssembly.Imports => ({ env: { memory }, filter: { burst: filterBurst } });

export function instantiateEngine(module: WebAssembly.Module, memory: WebAssembly.Memory, filterBurst?: FilterBurst): EngineExports {
  const instance = new WebAssembly.Instance(module, engineImports(memory, filterBurst));
  return instance.exports as unknown as EngineExports;
}

export const INIT_ERRORS: Record<number, string> = {
  [-1]: 'control block address is 0',
  [-2]: 'no control block magic at that address (was writeControlBlock called?)',
  [-3]: 'control block layout version differs from the engine build',
};
