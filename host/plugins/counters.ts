// A plugin's wirewasm.counter_add totals, summed by a small WASM module that is itself the
// plugin's counter_add import: the call stays WASM to WASM, so the i64 delta never becomes a
// BigInt and a plugin that counts per burst makes no garbage. The host reads the totals on demand.
//
// The module (WAT below; the bytes are its wabt encoding), one instance per plugin:
//
//   memory (64 KiB, its own)
//   0       totals    i64 per id 0..IDS-1
//   32768   seen      u8 per id: 1 once the id was counted
//   36864   order     u16 per id, in the order first counted (the global `count` of them)
//   ids outside 0..IDS-1 are handed to the host's `far` import (a Map of bigints: rare, slower),
//   kept to i64 like the table so that every id's total wraps the same way
//
// (module
//   (import "host" "far" (func $far (param i32 i64)))
//   (memory (export "memory") 1)
//   (global $n (export "count") (mut i32) (i32.const 0))
//   (func (export "add") (param $id i32) (param $d i64)
//     (local $a i32)
//     (if (i32.ge_u (local.get $id) (i32.const 4096))
//       (then (call $far (local.get $id) (local.get $d)) (return)))
//     (local.set $a (i32.shl (local.get $id) (i32.const 3)))
//     (i64.store (local.get $a) (i64.add (i64.load (local.get $a)) (local.get $d)))
//     (if (i32.eqz (i32.load8_u offset=32768 (local.get $id)))
//       (then
//         (i32.store8 offset=32768 (local.get $id) (i32.const 1))
//         (i32.store16 offset=36864 (i32.shl (global.get $n) (i32.const 1)) (local.get $id))
//         (global.set $n (i32.add (global.get $n) (i32.const 1)))))))

const IDS = 4096;
const SEEN = 32768;
const ORDER = 36864;
const MODULE_BASE64 =
  'AGFzbQEAAAABBgFgAn9+AAIMAQRob3N0A2ZhcgAAAwIBAAUDAQABBgYBfwFBAAsHGAMGbWVtb3J5AgAFY291bnQDAANhZGQAAQpRAU8BAX8gAEGAIE8EQCAAIAEQAA8LIABBA3QhAiACIAIpAwAgAXw3AwAgAC0AgIACRQRAIABBAToAgIACIwBBAXQgADsBgKACIwBBAWokAAsL';

let compiled: WebAssembly.Module | null = null;

interface CounterExports {
  memory: WebAssembly.Memory;
  count: WebAssembly.Global;
  add(id: number, delta: bigint): void;
}

/** One plugin's counter totals by id: read like a Map of bigints. */
export class CounterTotals implements Iterable<[number, bigint]> {
  /** The function to give the plugin as its wirewasm.counter_add import. */
  readonly add: (id: number, delta: bigint) => void;
  private readonly x: CounterExports;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly far = new Map<number, bigint>();

  constructor() {
    compiled ??= new WebAssembly.Module(Buffer.from(MODULE_BASE64, 'base64'));
    const far = this.far;
    this.x = new WebAssembly.Instance(compiled, { host: { far: (id: number, d: bigint) => far.set(id, BigInt.asIntN(64, (far.get(id) ?? 0n) + d)) } }).exports as unknown as CounterExports;
    this.add = this.x.add;
    // Its memory never grows: the views stay valid.
    this.i32 = new Int32Array(this.x.memory.buffer);
    this.u8 = new Uint8Array(this.x.memory.buffer);
    this.u16 = new Uint16Array(this.x.memory.buffer);
  }

  /** The total of `id` as a number (exact below 2^53) without making a bigint; 0 when never counted. */
  number(id: number): number {
    if (id < 0 || id >= IDS) return Number(this.far.get(id) ?? 0n);
    return this.i32[2 * id + 1] * 2 ** 32 + (this.i32[2 * id] >>> 0);
  }

  get(id: number): bigint | undefined {
    if (id < 0 || id >= IDS) return this.far.get(id);
    if (!this.u8[SEEN + id]) return undefined;
    return new BigInt64Array(this.x.memory.buffer, 8 * id, 1)[0];
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  get size(): number {
    return (this.x.count.value as number) + this.far.size;
  }

  /** [id, total] in the order the ids were first counted (ids 0..4095), then the others. */
  *[Symbol.iterator](): IterableIterator<[number, bigint]> {
    const n = this.x.count.value as number;
    for (let i = 0; i < n; i++) {
      const id = this.u16[(ORDER >> 1) + i];
      yield [id, this.get(id)!];
    }
    yield* this.far;
  }

  entries(): IterableIterator<[number, bigint]> {
    return this[Symbol.iterator]();
  }
}
