// Classic BPF -> one WASM module that runs the program over the engine's shared memory, with the
// semantics of libpcap's interpreter (bpf_filter / pcap_offline_filter): A, X and M[] start at 0;
// a load any byte of which lies past caplen, or a division or modulo by X = 0, ends the program
// with 0 (reject); a shift by 32 or more gives 0; the value of `ret` is the verdict (0 = reject,
// otherwise the snap length).
//
// The module imports the memory as env.memory (shared, limits 0..65536 pages, so it links to any
// shared memory) and exports:
//   filter(data, caplen, wirelen) -> verdict            one frame at `data`
//   filterBurst(list, count, metaBase, verdicts) -> accepted
//       `list` holds `count` u32 entries: addresses of 64-byte metadata records, or, when metaBase
//       is not 0, frame indexes whose records are at metaBase + 64 * index (an engine burst list,
//       as assembly/plugins.ts takes it). Each record gives data/caplen/wirelen at offsets 0/4/8
//       (assembly/meta.ts), and `next` at 60, followed with frame indexes (see Chains); verdicts[i]
//       (u32) receives frame i's verdict. One call per burst.
//   (and has chainLoad(meta, metaBase, offset, size) -> value or -1 past the end, for filterChain)
//
// Chains: a frame longer than an engine pool frame is a chain of segments (assembly/pool.ts
// poolCopyIn): each segment's record gives its own data and caplen, `next` the frame index of the
// following segment (NEXT_NONE, 0xffffffff, on the last), the head's wirelen the whole packet's.
// libpcap judges the whole packet. filterBurst runs every frame as one piece of caplen bytes: a
// chained frame is then judged on its first segment, where a load past it rejects; an accepted
// one loaded nothing past it and stands. With a frame-index list (metaBase not 0), after the
// burst, each rejected chained frame runs again in a second copy of the program (filterChain)
// whose loads go through chainLoad: it walks the segments to the one holding each byte, and a
// load past the last segment's end rejects, as one past caplen does. The burst loop pays one AND
// per frame (telling whether any frame is chained) and holds no call.
//
// Jumps: cBPF jumps only forward, so the program is a DAG laid out in order. Every jump target t
// gets a block that ends just before instruction t, nested so the block of the nearest target is
// innermost; a jump is then a `br` (or `br_if`) to the block of its target, and a fall-through
// costs nothing. This is plain structured control flow the JIT compiles to direct branches, where
// a loop + br_table state machine would pay an indirect jump per basic block.
import { BPF, BPF_MEMWORDS, SKF_AD_NAMES, SKF_AD_OFF, bpfClass, bpfImage, bpfInvalid, bpfMode, bpfOp, bpfSize, bpfSrc, type BpfInsn } from './bpf.js';
import { FuncWriter, I32, I64, assembleModule, moduleText, type MemoryImport } from './wasm-emit.js';
import { CHAIN_LOAD, chainCall, emitChainLoad, emitChainPass, FILTER_CHAIN, type ChainRegs } from './chain-load.js';

/** A program the translator refuses; the message names the instruction and why. */
export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

export interface Translation {
  /** The module's bytes. */
  wasm: Uint8Array<ArrayBuffer>;
  /** The same module as WebAssembly text. */
  text: string;
}

export const FILTER_MEMORY: MemoryImport = { module: 'env', name: 'memory', min: 0, max: 65536, shared: true };

interface Regs {
  data: number;
  caplen: number;
  wirelen: number;
  caplen64: number;
  a: number;
  x: number;
  t: number;
  mem: number[];
  /** A chained frame: loads go through chainLoad from the head record `meta` (t64 holds its answer). */
  chain?: ChainRegs;
}

const SIZE_BYTES: Record<number, number> = { [BPF.W]: 4, [BPF.H]: 2, [BPF.B]: 1 };

/** Why the translator cannot run this instruction in the engine, or undefined. */
function refusal(i: BpfInsn, n: number): string | undefined {
  const cls = bpfClass(i.code);
  if ((cls === BPF.LD || cls === BPF.LDX) && bpfMode(i.code) === BPF.ABS && i.k >= SKF_AD_OFF) {
    const name = SKF_AD_NAMES[i.k - SKF_AD_OFF] ?? `SKF_AD_OFF+${i.k - SKF_AD_OFF}`;
    return `instruction ${n} (${bpfImage(i, n)}) loads the Linux ancillary field "${name}", which the kernel knows for a live socket but a frame in a capture file or ring does not carry: this filter can run only attached to an AF_PACKET socket`;
  }
  return undefined;
}

/** Translates a valid cBPF program; throws FilterError naming the instruction it cannot take. */
export function translateBpf(insns: readonly BpfInsn[]): Translation {
  const invalid = bpfInvalid(insns);
  if (invalid) throw new FilterError(`not a valid BPF program: ${invalid}`);
  insns.forEach((i, n) => {
    const why = refusal(i, n);
    if (why) throw new FilterError(why);
  });
  const single = new FuncWriter('filter', [I32, I32, I32], [I32], ['data', 'caplen', 'wirelen']);
  emitSingle(single, insns);
  const burst = new FuncWriter('filterBurst', [I32, I32, I32, I32], [I32], ['list', 'count', 'metaBase', 'verdicts']);
  emitBurst(burst, insns);
  const chainLoad = new FuncWriter('chainLoad', [I32, I32, I64, I32], [I64], ['meta', 'metaBase', 'offset', 'size'], false);
  emitChainLoad(chainLoad);
  const chain = new FuncWriter('filterChain', [I32, I32, I32, I32, I32], [I32], ['meta', 'metaBase', 'data', 'caplen', 'wirelen'], false);
  emitChain(chain, insns);
  // chain-load.ts calls the last two by index: they are placed at the indexes it names.
  const funcs: FuncWriter[] = [single, burst];
  funcs[CHAIN_LOAD] = chainLoad;
  funcs[FILTER_CHAIN] = chain;
  return { wasm: assembleModule(FILTER_MEMORY, funcs), text: moduleText(FILTER_MEMORY, funcs) };
}

function programRegs(f: FuncWriter, insns: readonly BpfInsn[], frame: { data: number; caplen: number; wirelen: number }): Regs {
  const usedMem = new Set<number>();
  for (const i of insns) {
    const cls = bpfClass(i.code);
    if (cls === BPF.ST || cls === BPF.STX || ((cls === BPF.LD || cls === BPF.LDX) && bpfMode(i.code) === BPF.MEM)) usedMem.add(i.k);
  }
  const mem: number[] = [];
  for (let k = 0; k < BPF_MEMWORDS; k++) if (usedMem.has(k)) mem[k] = f.local(I32, `M${k}`);
  const hasInd = insns.some((i) => bpfClass(i.code) === BPF.LD && bpfMode(i.code) === BPF.IND);
  return { ...frame, a: f.local(I32, 'A'), x: f.local(I32, 'X'), t: f.local(I32, 't'), caplen64: hasInd ? f.local(I64, 'caplen64') : -1, mem };
}

/**
 * Sets to 0, as the interpreter starts, each of A, X and the scratch words that some path reads
 * before writing it (one forward pass: jumps only go forward). A register every path writes first
 * costs nothing per frame.
 */
function resetRegs(f: FuncWriter, r: Regs, insns: readonly BpfInsn[]) {
  const unset = readBeforeWrite(insns);
  const regs = [r.a, r.x, ...r.mem];
  regs.forEach((reg, bit) => {
    if (reg === undefined || !(unset & (1 << bit))) return;
    f.i32(0);
    f.set(reg);
  });
  if (r.caplen64 >= 0) {
    f.get(r.caplen);
    f.op('i64.extend_i32_u');
    f.set(r.caplen64);
  }
}

/** Bit set of the registers (bit 0 A, 1 X, 2 + k M[k]) some path reads before writing. */
function readBeforeWrite(insns: readonly BpfInsn[]): number {
  const A = 1;
  const X = 2;
  const M = (k: number) => 4 << k;
  const into = new Array<number>(insns.length).fill(-1);
  into[0] = 0;
  let unset = 0;
  insns.forEach((ins, n) => {
    const cls = bpfClass(ins.code);
    const mode = bpfMode(ins.code);
    const byX = bpfSrc(ins.code) === BPF.X ? X : 0;
    const [reads, writes] =
      cls === BPF.LD ? [mode === BPF.IND ? X : mode === BPF.MEM ? M(ins.k) : 0, A]
      : cls === BPF.LDX ? [mode === BPF.MEM ? M(ins.k) : 0, X]
      : cls === BPF.ST ? [A, M(ins.k)]
      : cls === BPF.STX ? [X, M(ins.k)]
      : cls === BPF.ALU ? [A | byX, A]
      : cls === BPF.JMP ? [bpfOp(ins.code) === BPF.JA ? 0 : A | byX, 0]
      : cls === BPF.RET ? [ins.code === (BPF.RET | BPF.A) ? A : 0, 0]
      : ins.code === (BPF.MISC | BPF.TAX) ? [A, X] : [X, A];
    unset |= reads & ~into[n];
    const out = into[n] | writes;
    for (const t of successors(ins, n)) into[t] &= out;
  });
  return unset;
}

/** filter(data, caplen, wirelen): the program once, its verdict returned (locals start at 0). */
function emitSingle(f: FuncWriter, insns: readonly BpfInsn[]) {
  const regs = programRegs(f, insns, { data: 0, caplen: 1, wirelen: 2 });
  if (regs.caplen64 >= 0) {
    f.get(regs.caplen);
    f.op('i64.extend_i32_u');
    f.set(regs.caplen64);
  }
  emitBody(f, insns, regs);
}

/**
 * filterChain(meta, metaBase, data, caplen, wirelen): the program once over the chained frame whose
 * head record is `meta`, every load through chainLoad. A function of its own, so filterBurst's loop
 * over unchained frames stays as small as it was.
 */
function emitChain(f: FuncWriter, insns: readonly BpfInsn[]) {
  const regs = programRegs(f, insns, { data: 2, caplen: 3, wirelen: 4 });
  const chained = { ...regs, chain: { meta: 0, metaBase: 1, t64: f.local(I64, 't64') } };
  emitBody(f, insns, chained);
}

/** filterBurst(list, count, metaBase, verdicts): the program over each listed frame. */
function emitBurst(f: FuncWriter, insns: readonly BpfInsn[]) {
  const [list, count, metaBase, verdicts] = [0, 1, 2, 3];
  const i = f.local(I32, 'i');
  const accepted = f.local(I32, 'accepted');
  const shift = f.local(I32, 'shift');
  const meta = f.local(I32, 'meta');
  const v = f.local(I32, 'verdict');
  const nexts = f.local(I32, 'nexts');
  const frame = { data: f.local(I32, 'data'), caplen: f.local(I32, 'caplen'), wirelen: f.local(I32, 'wirelen') };
  const regs = programRegs(f, insns, frame);
  f.i32(-1);
  f.set(nexts);
  f.block('done');
  f.get(count);
  f.op('i32.eqz');
  f.brIf(0, '$done');
  f.comment('a list entry is a record address (metaBase 0) or a frame index (record at metaBase + 64 * index)');
  f.i32(6);
  f.i32(0);
  f.get(metaBase);
  f.op('select');
  f.set(shift);
  f.loop('next');
  f.get(list);
  f.get(i);
  f.i32(2);
  f.op('i32.shl');
  f.op('i32.add');
  f.load();
  f.get(shift);
  f.op('i32.shl');
  f.get(metaBase);
  f.op('i32.add');
  f.tee(meta);
  f.load(0);
  f.set(frame.data);
  f.get(meta);
  f.load(4);
  f.set(frame.caplen);
  f.get(meta);
  f.load(8);
  f.set(frame.wirelen);
  f.comment('the AND of the next fields stays 0xffffffff while no frame is chained (frame-index lists)');
  f.get(meta);
  f.load(60);
  f.get(nexts);
  f.op('i32.and');
  f.set(nexts);
  resetRegs(f, regs, insns);
  emitBody(f, insns, regs);
  f.set(v);
  f.get(verdicts);
  f.get(i);
  f.i32(2);
  f.op('i32.shl');
  f.op('i32.add');
  f.get(v);
  f.store();
  f.get(accepted);
  f.get(v);
  f.i32(0);
  f.op('i32.ne');
  f.op('i32.add');
  f.set(accepted);
  f.get(i);
  f.i32(1);
  f.op('i32.add');
  f.tee(i);
  f.get(count);
  f.op('i32.lt_u');
  f.brIf(0, '$next');
  f.end();
  emitChainPass(f, { list, count, metaBase, verdicts, i, meta, v, accepted, nexts });
  f.end();
  f.get(accepted);
}

/**
 * The program as a block that leaves its verdict on the stack:
 *   block $ret (result i32)  block $reject  block $L<last target> ... block $L<first target>
 *     instructions, each target's block closing just before it
 *   end $reject  i32.const 0  end $ret
 */
function emitBody(f: FuncWriter, insns: readonly BpfInsn[], r: Regs) {
  const targetSet = new Set<number>();
  insns.forEach((i, n) => {
    if (bpfClass(i.code) === BPF.JMP) for (const d of successors(i, n)) if (d !== n + 1) targetSet.add(d);
  });
  const targets = [...targetSet].sort((a, b) => a - b);
  const checked = checkedLengths(insns);
  const index = new Map(targets.map((t, j) => [t, j]));
  f.block('ret', I32);
  f.block('reject');
  for (let j = targets.length - 1; j >= 0; j--) f.block(`L${targets[j]}`);
  let closed = 0;
  const depthTo = (t: number) => index.get(t)! - closed;
  const rejectDepth = () => targets.length - closed;
  const ret = () => f.br(rejectDepth() + 1, '$ret');
  const reject = () => f.br(rejectDepth(), '$reject');
  const rejectIf = () => f.brIf(rejectDepth(), '$reject');
  const jump = (n: number, t: number) => {
    if (t !== n + 1) f.br(depthTo(t), `$L${t}`);
  };

  insns.forEach((ins, n) => {
    while (closed < targets.length && targets[closed] === n) {
      f.end();
      closed++;
    }
    f.comment(bpfImage(ins, n).replace('\t', ' '));
    const { k } = ins;
    const cls = bpfClass(ins.code);
    const dst = cls === BPF.LDX ? r.x : r.a;
    switch (cls) {
      case BPF.LD:
      case BPF.LDX:
        switch (bpfMode(ins.code)) {
          case BPF.IMM:
            f.i32(k);
            break;
          case BPF.LEN:
            f.get(r.wirelen);
            break;
          case BPF.MEM:
            f.get(r.mem[k]);
            break;
          case BPF.ABS: {
            const size = SIZE_BYTES[bpfSize(ins.code)];
            if (k + size > 0xffffffff) {
              reject();
              return;
            }
            if (r.chain) {
              f.i64(k);
              chainCall(f, r.chain, size, rejectIf);
              break;
            }
            if (k + size > checked[n]) {
              f.get(r.caplen);
              f.i32(k + size);
              f.op('i32.lt_u');
              rejectIf();
            }
            f.get(r.data);
            loadBigEndian(f, size, k, r.t);
            break;
          }
          case BPF.IND: {
            const size = SIZE_BYTES[bpfSize(ins.code)];
            if (r.chain) {
              f.get(r.x);
              f.op('i64.extend_i32_u');
              f.i64(k);
              f.op('i64.add');
              chainCall(f, r.chain, size, rejectIf);
              break;
            }
            f.get(r.x);
            f.op('i64.extend_i32_u');
            f.i64(k + size);
            f.op('i64.add');
            f.get(r.caplen64);
            f.op('i64.gt_u');
            rejectIf();
            f.get(r.data);
            f.get(r.x);
            f.op('i32.add');
            loadBigEndian(f, size, k, r.t);
            break;
          }
          case BPF.MSH:
            if (r.chain) {
              f.i64(k);
              chainCall(f, r.chain, 1, rejectIf);
              f.i32(0xf);
              f.op('i32.and');
              f.i32(2);
              f.op('i32.shl');
              break;
            }
            if (k + 1 > checked[n]) {
              f.get(r.caplen);
              f.i32(k);
              f.op('i32.le_u');
              rejectIf();
            }
            f.get(r.data);
            f.loadU8(k);
            f.i32(0xf);
            f.op('i32.and');
            f.i32(2);
            f.op('i32.shl');
            break;
        }
        f.set(dst);
        return;
      case BPF.ST:
        f.get(r.a);
        f.set(r.mem[k]);
        return;
      case BPF.STX:
        f.get(r.x);
        f.set(r.mem[k]);
        return;
      case BPF.ALU:
        emitAlu(f, ins, r, rejectIf);
        return;
      case BPF.JMP: {
        if (bpfOp(ins.code) === BPF.JA) return jump(n, n + 1 + k);
        const jt = n + 1 + ins.jt;
        const jf = n + 1 + ins.jf;
        if (jt === jf) return jump(n, jt);
        const operand = () => (bpfSrc(ins.code) === BPF.X ? f.get(r.x) : f.i32(k));
        const op = bpfOp(ins.code);
        const retValue = (t: number) => (insns[t].code === (BPF.RET | BPF.A) ? f.get(r.a) : f.i32(insns[t].k));
        if (bpfClass(insns[jt].code) === BPF.RET && bpfClass(insns[jf].code) === BPF.RET) {
          // Both ways return: a select, so the CPU has no jump to predict.
          retValue(jt);
          retValue(jf);
          f.get(r.a);
          operand();
          f.op(op === BPF.JEQ ? 'i32.eq' : op === BPF.JGT ? 'i32.gt_u' : op === BPF.JGE ? 'i32.ge_u' : 'i32.and');
          f.op('select');
          ret();
          return;
        }
        f.get(r.a);
        operand();
        if (jt === n + 1) {
          // Falls through when true: jump on the negated test.
          if (op === BPF.JSET) {
            f.op('i32.and');
            f.op('i32.eqz');
          } else f.op(op === BPF.JEQ ? 'i32.ne' : op === BPF.JGT ? 'i32.le_u' : 'i32.lt_u');
          f.brIf(depthTo(jf), `$L${jf}`);
          return;
        }
        f.op(op === BPF.JEQ ? 'i32.eq' : op === BPF.JGT ? 'i32.gt_u' : op === BPF.JGE ? 'i32.ge_u' : 'i32.and');
        f.brIf(depthTo(jt), `$L${jt}`);
        jump(n, jf);
        return;
      }
      case BPF.RET:
        if (ins.code === (BPF.RET | BPF.A)) f.get(r.a);
        else f.i32(k);
        ret();
        return;
      case BPF.MISC:
        f.get(ins.code === (BPF.MISC | BPF.TAX) ? r.a : r.x);
        f.set(ins.code === (BPF.MISC | BPF.TAX) ? r.x : r.a);
        return;
    }
  });
  f.end();
  f.i32(0);
  f.end();
}

/**
 * For each instruction, a caplen every path reaching it has already been checked against (a
 * load at a fixed offset that passed proves caplen >= offset + size): a fixed-offset load within
 * it needs no check of its own. Jumps only go forward, so one pass in order is the whole dataflow.
 */
function checkedLengths(insns: readonly BpfInsn[]): number[] {
  const into = new Array<number>(insns.length).fill(Infinity);
  into[0] = 0;
  insns.forEach((ins, n) => {
    let out = into[n];
    const cls = bpfClass(ins.code);
    if ((cls === BPF.LD || cls === BPF.LDX) && bpfMode(ins.code) === BPF.ABS) out = Math.max(out, ins.k + SIZE_BYTES[bpfSize(ins.code)]);
    if (cls === BPF.LDX && bpfMode(ins.code) === BPF.MSH) out = Math.max(out, ins.k + 1);
    for (const t of successors(ins, n)) into[t] = Math.min(into[t], out);
  });
  return into;
}

/** Where execution can go after instruction n (validated: always inside the program). */
function successors(ins: BpfInsn, n: number): number[] {
  const cls = bpfClass(ins.code);
  if (cls === BPF.RET) return [];
  if (cls !== BPF.JMP) return [n + 1];
  if (bpfOp(ins.code) === BPF.JA) return [n + 1 + ins.k];
  return [n + 1 + ins.jt, n + 1 + ins.jf];
}

/** Reads `size` bytes at (address on the stack) + offset, big-endian as BPF loads are. */
function loadBigEndian(f: FuncWriter, size: number, offset: number, t: number) {
  if (size === 1) return f.loadU8(offset);
  if (size === 2) {
    f.loadU16(offset);
    f.tee(t);
    f.i32(8);
    f.op('i32.shl');
    f.get(t);
    f.i32(8);
    f.op('i32.shr_u');
    f.op('i32.or');
    f.i32(0xffff);
    f.op('i32.and');
    return;
  }
  // bswap32(x) = (rotr(x, 8) & 0xff00ff00) | (rotl(x, 8) & 0x00ff00ff)
  f.loadU32(offset);
  f.tee(t);
  f.i32(8);
  f.op('i32.rotr');
  f.i32(0xff00ff00);
  f.op('i32.and');
  f.get(t);
  f.i32(8);
  f.op('i32.rotl');
  f.i32(0x00ff00ff);
  f.op('i32.and');
  f.op('i32.or');
}

const ALU_OPS = {
  [BPF.ADD]: 'i32.add', [BPF.SUB]: 'i32.sub', [BPF.MUL]: 'i32.mul', [BPF.DIV]: 'i32.div_u', [BPF.MOD]: 'i32.rem_u',
  [BPF.AND]: 'i32.and', [BPF.OR]: 'i32.or', [BPF.XOR]: 'i32.xor', [BPF.LSH]: 'i32.shl', [BPF.RSH]: 'i32.shr_u',
} as const;

function emitAlu(f: FuncWriter, ins: BpfInsn, r: Regs, rejectIf: () => void) {
  const op = bpfOp(ins.code);
  if (op === BPF.NEG) {
    f.i32(0);
    f.get(r.a);
    f.op('i32.sub');
    f.set(r.a);
    return;
  }
  const byX = bpfSrc(ins.code) === BPF.X;
  const shift = op === BPF.LSH || op === BPF.RSH;
  if (byX && (op === BPF.DIV || op === BPF.MOD)) {
    f.get(r.x);
    f.op('i32.eqz');
    rejectIf();
  }
  if (shift && !byX && ins.k >= 32) {
    // WASM shifts count modulo 32; BPF's give 0.
    f.i32(0);
    f.set(r.a);
    return;
  }
  f.get(r.a);
  if (byX) f.get(r.x);
  else f.i32(ins.k);
  f.op(ALU_OPS[op as keyof typeof ALU_OPS]);
  if (shift && byX) {
    f.i32(0);
    f.get(r.x);
    f.i32(32);
    f.op('i32.lt_u');
    f.op('select');
  }
  f.set(r.a);
}
