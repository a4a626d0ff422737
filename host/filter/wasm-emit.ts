// A small WASM binary emitter for the filter translator: the ~30 instructions it needs, written as
// bytes and, side by side, as WebAssembly text, so `wirewasm filter -d` can print what runs without
// a WAT tool. Encodings: WebAssembly Core Specification 2.0, sections 5.2 (LEB128), 5.4 (code), 5.5 (module).

export const I32 = 0x7f;
export const I64 = 0x7e;
const EMPTY = 0x40;

export function uleb(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? b | 0x80 : b);
  } while (v);
  return out;
}

export function sleb(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && !(b & 0x40)) || (v === -1n && b & 0x40);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const utf8 = (s: string) => [...uleb(Buffer.byteLength(s)), ...Buffer.from(s)];

/** One function body being written: its code bytes and the same code as indented text. */
export class FuncWriter {
  readonly code: number[] = [];
  readonly text: string[] = [];
  private depth = 1;
  private readonly localTypes: number[] = [];

  constructor(
    readonly name: string,
    readonly params: number[],
    readonly results: number[],
    private readonly paramNames: string[],
    /** Exported under its name (a helper the others call is not). */
    readonly exported = true,
  ) {}

  /** Declares a local; returns its index. */
  local(type: number, name: string): number {
    this.localTypes.push(type);
    this.paramNames.push(name);
    return this.params.length + this.localTypes.length - 1;
  }

  private emit(text: string, ...bytes: number[]) {
    this.code.push(...bytes);
    this.text.push('  '.repeat(this.depth) + text);
  }

  get(i: number) { this.emit(`local.get $${this.paramNames[i]}`, 0x20, ...uleb(i)); }
  set(i: number) { this.emit(`local.set $${this.paramNames[i]}`, 0x21, ...uleb(i)); }
  tee(i: number) { this.emit(`local.tee $${this.paramNames[i]}`, 0x22, ...uleb(i)); }
  i32(v: number) { this.emit(`i32.const ${v | 0}`, 0x41, ...sleb(v | 0)); }
  i64(v: number | bigint) { this.emit(`i64.const ${BigInt.asIntN(64, BigInt(v))}`, 0x42, ...sleb(BigInt.asIntN(64, BigInt(v)))); }
  /** A memory access: opcode, name, natural alignment (log2), static offset. */
  mem(name: string, opcode: number, align: number, offset: number) {
    this.emit(`${name}${offset ? ` offset=${offset}` : ''}${align ? '' : ' align=1'}`, opcode, ...uleb(align), ...uleb(offset));
  }
  load(offset = 0) { this.mem('i32.load', 0x28, 2, offset); }
  /** Loads at an address with no alignment promise (packet bytes sit anywhere). */
  loadU32(offset: number) { this.mem('i32.load', 0x28, 0, offset); }
  loadU16(offset: number) { this.mem('i32.load16_u', 0x2f, 0, offset); }
  loadU8(offset: number) { this.mem('i32.load8_u', 0x2d, 0, offset); }
  store(offset = 0) { this.mem('i32.store', 0x36, 2, offset); }
  /** A plain instruction with no immediates. */
  op(name: keyof typeof OPCODES) { this.emit(name, OPCODES[name]); }
  block(label: string, result?: number) {
    this.emit(`block $${label}${result ? ` (result ${result === I32 ? 'i32' : 'i64'})` : ''}`, 0x02, result ?? EMPTY);
    this.depth++;
  }
  loop(label: string) {
    this.emit(`loop $${label}`, 0x03, EMPTY);
    this.depth++;
  }
  end() {
    this.depth--;
    this.emit('end', 0x0b);
  }
  call(index: number, name: string) { this.emit(`call ${index} ;; $${name}`, 0x10, ...uleb(index)); }
  br(depth: number, label: string) { this.emit(`br ${depth} ;; ${label}`, 0x0c, ...uleb(depth)); }
  brIf(depth: number, label: string) { this.emit(`br_if ${depth} ;; ${label}`, 0x0d, ...uleb(depth)); }
  comment(text: string) { this.text.push('  '.repeat(this.depth) + ';; ' + text); }

  /** The function body as the code section holds it: locals then code then end. */
  body(): number[] {
    // Runs of one type are one entry (count, type), as wat2wasm writes them.
    const runs: [number, number][] = [];
    for (const t of this.localTypes) {
      const last = runs.at(-1);
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    const locals = [...uleb(runs.length), ...runs.flatMap(([n, t]) => [...uleb(n), t])];
    const all = [...locals, ...this.code, 0x0b];
    return [...uleb(all.length), ...all];
  }

  /** The function in WebAssembly text. */
  wat(): string {
    const ty = (t: number) => (t === I32 ? 'i32' : 'i64');
    const params = this.params.map((t, i) => `(param $${this.paramNames[i]} ${ty(t)})`).join(' ');
    const results = this.results.map((t) => `(result ${ty(t)})`).join(' ');
    const locals = this.localTypes.map((t, i) => `(local $${this.paramNames[this.params.length + i]} ${ty(t)})`);
    const head = `(func $${this.name}${this.exported ? ` (export "${this.name}")` : ''} ${params} ${results}`;
    return [head, ...(locals.length ? ['  ' + locals.join(' ')] : []), ...this.text, ')'].join('\n');
  }
}

const OPCODES = {
  'i32.eqz': 0x45, 'i32.eq': 0x46, 'i32.ne': 0x47, 'i32.lt_u': 0x49, 'i32.gt_u': 0x4b, 'i32.le_u': 0x4d, 'i32.ge_u': 0x4f,
  'i64.lt_s': 0x53, 'i64.lt_u': 0x54, 'i64.gt_u': 0x56,
  'i32.add': 0x6a, 'i32.sub': 0x6b, 'i32.mul': 0x6c, 'i32.div_u': 0x6e, 'i32.rem_u': 0x70, 'i32.and': 0x71, 'i32.or': 0x72,
  'i32.xor': 0x73, 'i32.shl': 0x74, 'i32.shr_u': 0x76, 'i32.rotl': 0x77, 'i32.rotr': 0x78,
  'i64.add': 0x7c, 'i64.sub': 0x7d, 'i64.or': 0x84, 'i64.shl': 0x86, 'i64.extend_i32_u': 0xad, 'i32.wrap_i64': 0xa7,
  select: 0x1b, unreachable: 0x00, return: 0x0f, drop: 0x1a,
} as const;

export interface MemoryImport {
  module: string;
  name: string;
  min: number;
  max: number;
  shared: boolean;
}

/** A module of the given functions (those marked exported under their names), importing one memory. */
export function assembleModule(memory: MemoryImport, funcs: FuncWriter[]): Uint8Array<ArrayBuffer> {
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
  const types = funcs.map((f) => [0x60, ...uleb(f.params.length), ...f.params, ...uleb(f.results.length), ...f.results]);
  const limits = [memory.shared ? 0x03 : 0x01, ...uleb(memory.min), ...uleb(memory.max)];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...utf8(memory.module), ...utf8(memory.name), 0x02, ...limits]])),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(funcs.flatMap((f, i) => (f.exported ? [[...utf8(f.name), 0x00, ...uleb(i)]] : [])))),
    ...section(10, vec(funcs.map((f) => f.body()))),
  ];
  return Uint8Array.from(bytes);
}

/** The module as WebAssembly text, for listings. */
export function moduleText(memory: MemoryImport, funcs: FuncWriter[]): string {
  const mem = `(import "${memory.module}" "${memory.name}" (memory ${memory.min} ${memory.max}${memory.shared ? ' shared' : ''}))`;
  return ['(module', '  ' + mem, ...funcs.map((f) => f.wat().replace(/^/gm, '  ')), ')'].join('\n') + '\n';
}
