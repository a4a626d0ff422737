// Several workers instantiate the engine module over one memory. That is safe only if the module
// imports a shared memory and has no start function, data segments or mutable globals
// (docs/architecture.md, "One module, many instances"): any of those would re-initialise or
// shadow state on every instantiation.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { engineWasmPath } from '../host/wasm.js';
import { readModuleShape } from '../host/wasm-binary.js';

for (const debug of [false, true]) {
  describe(`engine module (${debug ? 'debug' : 'release'})`, () => {
    const shape = readModuleShape(readFileSync(engineWasmPath(debug)));

    it('imports exactly one memory, env.memory, shared, with a maximum', () => {
      const memories = shape.imports.filter((i) => i.kind === 'memory');
      expect(memories).toHaveLength(1);
      expect(memories[0]).toMatchObject({ module: 'env', name: 'memory' });
      expect(memories[0].memory?.shared).toBe(true);
      expect(memories[0].memory?.max).toBeGreaterThan(0);
      expect(shape.memories).toHaveLength(0);
    });

    it('has no start function, no data segments and no mutable globals', () => {
      expect(shape.hasStart).toBe(false);
      expect(shape.dataSegments).toBe(0);
      expect(shape.mutableGlobals).toBe(0);
    });

    it('imports nothing but the memory and the filter expression\'s burst function', () => {
      // filter.burst: the engine's filter (host/filter), linked per worker; a function holds no state.
      expect(shape.imports.map((i) => `${i.module}.${i.name}:${i.kind}`).sort()).toEqual(['env.memory:memory', 'filter.burst:function']);
    });
  });
}

describe('the shape reader', () => {
  // The checks above are only as good as the reader: it must see what it is asked about.
  const wat = (bytes: number[]) => new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...bytes]);
  it('sees a mutable global, a start section and a data segment when they are there', () => {
    const globalSec = [6, 6, 1, 0x7f, 1, 0x41, 0, 0x0b]; // (global (mut i32) (i32.const 0))
    const typeSec = [1, 4, 1, 0x60, 0, 0];
    const funcSec = [3, 2, 1, 0];
    const startSec = [8, 1, 0];
    const codeSec = [10, 4, 1, 2, 0, 0x0b];
    const memSec = [5, 3, 1, 0, 1];
    const dataSec = [11, 7, 1, 0, 0x41, 0, 0x0b, 1, 42];
    const s = readModuleShape(wat([...typeSec, ...funcSec, ...memSec, ...globalSec, ...startSec, ...codeSec, ...dataSec]));
    expect(s.mutableGlobals).toBe(1);
    expect(s.hasStart).toBe(true);
    expect(s.dataSegments).toBe(1);
    expect(s.memories).toEqual([{ min: 1, max: undefined, shared: false }]);
    expect(() => new WebAssembly.Module(wat([...typeSec, ...funcSec, ...memSec, ...globalSec, ...startSec, ...codeSec, ...dataSec]))).not.toThrow();
  });
  it('rejects bytes that are not WASM with a message that says so', () => {
    expect(() => readModuleShape(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/missing the \\0asm magic/);
  });
});
