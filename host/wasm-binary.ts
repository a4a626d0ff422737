// A reader for the parts of a WASM binary that decide whether a module may share, or be kept out
// of, a memory: imports (with memory limits and the shared flag), exports, start, globals, data.
// WebAssembly.Module.imports() does not report limits or sharing, hence this.

export interface MemoryType {
  min: number;
  max?: number;
  shared: boolean;
}

/** A function type as value-type names, e.g. {params: ['i32', 'i64'], results: ['i32']}. */
export interface FuncSignature {
  params: string[];
  results: string[];
}

export interface ModuleShape {
  imports: { module: string; name: string; kind: 'function' | 'table' | 'memory' | 'global' | 'tag'; memory?: MemoryType; signature?: FuncSignature }[];
  exports: { name: string; kind: 'function' | 'table' | 'memory' | 'global' | 'tag'; index: number; signature?: FuncSignature }[];
  /** Memories the module defines itself (not imported). */
  memories: MemoryType[];
  hasStart: boolean;
  dataSegments: number;
  mutableGlobals: number;
  globals: number;
}

const KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;
const VALTYPES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };

export class WasmFormatError extends Error {
  constructor(message: string) {
    super(`not a valid WebAssembly module: ${message}`);
    this.name = 'WasmFormatError';
  }
}

export function readModuleShape(bytes: Uint8Array): ModuleShape {
  let p = 0;
  const need = (n: number) => {
    if (p + n > bytes.length) throw new WasmFormatError(`truncated at byte ${p}`);
  };
  const u8 = () => (need(1), bytes[p++]);
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = u8();
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
      if (shift > 35) throw new WasmFormatError(`LEB128 too long at byte ${p}`);
    }
  };
  const name = () => {
    const n = leb();
    need(n);
    const s = new TextDecoder().decode(bytes.subarray(p, p + n));
    p += n;
    return s;
  };
  const limits = (): MemoryType => {
    const flags = u8();
    const min = leb();
    const max = flags & 1 ? leb() : undefined;
    return { min, max, shared: (flags & 2) !== 0 };
  };
  const skipConstExpr = () => {
    // Enough for what compilers emit in globals: a few instructions ending with `end` (0x0b).
    for (;;) {
      const op = u8();
      if (op === 0x0b) return;
      if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2) leb();
      else if (op === 0x43) p += 4;
      else if (op === 0x44) p += 8;
      else if (op === 0xfd) (leb(), (p += 16));
      else if (op === 0xd0) u8();
      else if (op === 0x6a || op === 0x6b || op === 0x6c || op === 0x7c || op === 0x7d || op === 0x7e) continue;
      else throw new WasmFormatError(`unsupported constant expression opcode 0x${op.toString(16)}`);
    }
  };
  const valtype = (): string => {
    const t = u8();
    if (t === 0x63 || t === 0x64) return `ref ${leb()}`; // (ref null? idx)
    return VALTYPES[t] ?? `0x${t.toString(16)}`;
  };
  const types: FuncSignature[] = [];
  // Type index of every function, imported ones first (the function index space).
  const funcTypes: number[] = [];

  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    throw new WasmFormatError('missing the \\0asm magic');
  if (bytes[4] !== 1) throw new WasmFormatError(`binary version ${bytes[4]}, expected 1`);
  p = 8;
  const shape: ModuleShape = { imports: [], exports: [], memories: [], hasStart: false, dataSegments: 0, mutableGlobals: 0, globals: 0 };
  while (p < bytes.length) {
    const id = u8();
    const size = leb();
    need(size);
    const end = p + size;
    switch (id) {
      case 1: {
        const n = leb();
        for (let i = 0; i < n; i++) {
          if (u8() !== 0x60) throw new WasmFormatError(`type ${i} is not a function type (GC types are not supported)`);
          const params = Array.from({ length: leb() }, valtype);
          const results = Array.from({ length: leb() }, valtype);
          types.push({ params, results });
        }
        break;
      }
      case 3: {
        const n = leb();
        for (let i = 0; i < n; i++) funcTypes.push(leb());
        break;
      }
      case 2: {
        const n = leb();
        for (let i = 0; i < n; i++) {
          const module = name();
          const field = name();
          const kind = KINDS[u8()];
          if (!kind) throw new WasmFormatError(`unknown import kind for ${module}.${field}`);
          const entry: ModuleShape['imports'][number] = { module, name: field, kind };
          if (kind === 'function') {
            const t = leb();
            funcTypes.push(t);
            entry.signature = types[t];
          }
          else if (kind === 'table') (valtype(), limits());
          else if (kind === 'memory') entry.memory = limits();
          else if (kind === 'global') (valtype(), u8());
          else (u8(), leb());
          shape.imports.push(entry);
        }
        break;
      }
      case 5: {
        const n = leb();
        for (let i = 0; i < n; i++) shape.memories.push(limits());
        break;
      }
      case 6: {
        const n = leb();
        shape.globals = n;
        for (let i = 0; i < n; i++) {
          valtype();
          if (u8() & 1) shape.mutableGlobals++;
          skipConstExpr();
        }
        break;
      }
      case 7: {
        const n = leb();
        for (let i = 0; i < n; i++) {
          const nm = name();
          const kind = KINDS[u8()];
          shape.exports.push({ name: nm, kind: kind ?? 'function', index: leb() });
        }
        break;
      }
      case 8:
        shape.hasStart = true;
        break;
      case 11:
        shape.dataSegments = leb();
        break;
    }
    p = end;
  }
  for (const e of shape.exports) if (e.kind === 'function' && funcTypes[e.index] !== undefined) e.signature = types[funcTypes[e.index]];
  return shape;
}
