// Loads from a chained frame for the translated filter (translate.ts): a frame longer than an
// engine pool frame is a chain of segments (assembly/pool.ts poolCopyIn), each segment's record
// giving its own data and caplen and `next` the frame index of the following one (NEXT_NONE,
// 0xffffffff, on the last); records sit at metaBase + 64 * index.
import { I32, I64, type FuncWriter } from './wasm-emit.js';

/** The indexes of chainLoad and filterChain among the module's functions (translate.ts places them there, after filter and filterBurst). */
export const CHAIN_LOAD = 2;
export const FILTER_CHAIN = 3;

/** The locals a chained copy of the program loads through: the head record, the records' base, a scratch i64. */
export interface ChainRegs {
  meta: number;
  metaBase: number;
  t64: number;
}

/**
 * A load from a chained frame, its offset (i64) on the stack: calls chainLoad, rejects when it
 * answers -1 (past the end), else leaves the value (i32).
 */
export function chainCall(f: FuncWriter, chain: ChainRegs, size: number, rejectIf: () => void) {
  const { meta, metaBase, t64 } = chain;
  f.set(t64);
  f.get(meta);
  f.get(metaBase);
  f.get(t64);
  f.i32(size);
  f.call(CHAIN_LOAD, 'chainLoad');
  f.tee(t64);
  f.i64(0);
  f.op('i64.lt_s');
  rejectIf();
  f.get(t64);
  f.op('i32.wrap_i64');
}

/**
 * chainLoad(meta, metaBase, offset, size): `size` bytes at `offset` of the packet whose head record
 * is `meta`, big-endian, walking the segments (each byte from the segment holding it, so a load
 * may straddle two); -1 when a byte lies past the last segment.
 */
export function emitChainLoad(f: FuncWriter) {
  const [meta, metaBase, offset, size] = [0, 1, 2, 3];
  const caplen = f.local(I64, 'caplen');
  const v = f.local(I64, 'v');
  const next = f.local(I32, 'next');
  f.loop('byte');
  f.block('found');
  f.loop('seek');
  f.get(offset);
  f.get(meta);
  f.load(4);
  f.op('i64.extend_i32_u');
  f.tee(caplen);
  f.op('i64.lt_u');
  f.brIf(1, '$found');
  f.get(offset);
  f.get(caplen);
  f.op('i64.sub');
  f.set(offset);
  f.block('more');
  f.get(meta);
  f.load(60);
  f.tee(next);
  f.i32(-1);
  f.op('i32.ne');
  f.brIf(0, '$more');
  f.i64(-1);
  f.op('return');
  f.end();
  f.get(next);
  f.i32(6);
  f.op('i32.shl');
  f.get(metaBase);
  f.op('i32.add');
  f.set(meta);
  f.br(0, '$seek');
  f.end();
  f.end();
  f.get(v);
  f.i64(8);
  f.op('i64.shl');
  f.get(meta);
  f.load(0);
  f.get(offset);
  f.op('i32.wrap_i64');
  f.op('i32.add');
  f.loadU8(0);
  f.op('i64.extend_i32_u');
  f.op('i64.or');
  f.set(v);
  f.get(offset);
  f.i64(1);
  f.op('i64.add');
  f.set(offset);
  f.get(size);
  f.i32(1);
  f.op('i32.sub');
  f.tee(size);
  f.brIf(0, '$byte');
  f.end();
  f.get(v);
}


/** filterBurst's locals the pass over chained frames reads and writes. */
export interface BurstLocals {
  list: number;
  count: number;
  metaBase: number;
  verdicts: number;
  i: number;
  meta: number;
  v: number;
  accepted: number;
  /** The AND of the burst's `next` fields: 0xffffffff when no frame is chained. */
  nexts: number;
}

/**
 * After filterBurst's loop, when the list holds frame indexes and some frame is chained: each
 * chained frame the loop rejected runs again through filterChain, its verdict replacing the first.
 */
export function emitChainPass(f: FuncWriter, b: BurstLocals) {
  f.block('chains');
  f.get(b.nexts);
  f.i32(-1);
  f.op('i32.eq');
  f.get(b.metaBase);
  f.op('i32.eqz');
  f.op('i32.or');
  f.brIf(0, '$chains');
  f.i32(0);
  f.set(b.i);
  f.loop('again');
  f.block('skip');
  f.get(b.verdicts);
  f.get(b.i);
  f.i32(2);
  f.op('i32.shl');
  f.op('i32.add');
  f.load();
  f.brIf(0, '$skip');
  f.get(b.list);
  f.get(b.i);
  f.i32(2);
  f.op('i32.shl');
  f.op('i32.add');
  f.load();
  f.i32(6);
  f.op('i32.shl');
  f.get(b.metaBase);
  f.op('i32.add');
  f.tee(b.meta);
  f.load(60);
  f.i32(-1);
  f.op('i32.eq');
  f.brIf(0, '$skip');
  f.get(b.verdicts);
  f.get(b.i);
  f.i32(2);
  f.op('i32.shl');
  f.op('i32.add');
  f.get(b.meta);
  f.get(b.metaBase);
  f.get(b.meta);
  f.load(0);
  f.get(b.meta);
  f.load(4);
  f.get(b.meta);
  f.load(8);
  f.call(FILTER_CHAIN, 'filterChain');
  f.tee(b.v);
  f.store();
  f.get(b.accepted);
  f.get(b.v);
  f.i32(0);
  f.op('i32.ne');
  f.op('i32.add');
  f.set(b.accepted);
  f.end();
  f.get(b.i);
  f.i32(1);
  f.op('i32.add');
  f.tee(b.i);
  f.get(b.count);
  f.op('i32.lt_u');
  f.brIf(0, '$again');
  f.end();
  f.end();
}
