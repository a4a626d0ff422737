// Random classic BPF programs (every instruction class, forward jumps of every reach, scratch
// memory, loads in and past the frame, division by a zero X, shifts past 31) through the
// translator and through libpcap's own interpreter (bpf_filter), on random frames: every verdict
// must be identical, in filter() and in filterBurst(). The seed is printed on failure;
// WIREWASM_FUZZ_SEED=N replays it.
import { describe, expect, it } from 'vitest';
import { BPF, Filter, bpfListing, type BpfInsn } from '../../host/filter/index.js';
import { refBpf, type RefFrame } from '../support/libpcap-ref.js';
import { runChained, runFilter } from '../support/filter-run.js';

function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(a: readonly T[]) => a[int(a.length)];
  return { next, int, pick };
}

type Rng = ReturnType<typeof rng>;

const LOAD_SIZES = [BPF.W, BPF.H, BPF.B];
const ALU_OPS = [BPF.ADD, BPF.SUB, BPF.MUL, BPF.DIV, BPF.MOD, BPF.AND, BPF.OR, BPF.XOR, BPF.LSH, BPF.RSH];
const JMP_OPS = [BPF.JEQ, BPF.JGT, BPF.JGE, BPF.JSET];

/** An offset for a packet load: mostly inside or just past a frame of up to 96 bytes, sometimes far past. */
function offset(r: Rng): number {
  const x = r.next();
  if (x < 0.85) return r.int(104);
  if (x < 0.95) return r.pick([0x7fffffff, 0x80000000, 0xffffefff, 0xfffffffe - 0x1000, 65535, 65536]);
  return r.int(0xfffff000); // below SKF_AD_OFF: Linux's ancillary loads are refused by name (see translate.test.ts)
}

function constant(r: Rng): number {
  return r.pick([0, 1, 2, 4, 14, 31, 32, 33, 0xff, 0xffff, 0x800, 0x86dd, 0x80000000, 0xffffffff, r.int(256), r.int(0x100000000)]);
}

function randomInsn(r: Rng, at: number, len: number, memLoads: boolean): BpfInsn {
  const reach = len - 1 - at; // instructions after this one
  const jump = () => (reach > 0 ? Math.min(255, r.next() < 0.5 ? r.int(Math.min(reach, 4)) : r.int(reach)) : 0);
  const choice = r.int(12);
  switch (choice) {
    case 0: return { code: BPF.LD | r.pick(LOAD_SIZES) | BPF.ABS, jt: 0, jf: 0, k: offset(r) };
    case 1: return { code: BPF.LD | r.pick(LOAD_SIZES) | BPF.IND, jt: 0, jf: 0, k: offset(r) };
    case 2: return r.pick([
      { code: BPF.LDX | BPF.MSH | BPF.B, jt: 0, jf: 0, k: offset(r) },
      { code: BPF.LDX | BPF.IMM, jt: 0, jf: 0, k: r.next() < 0.8 ? r.int(110) : constant(r) },
      { code: BPF.LD | BPF.IMM, jt: 0, jf: 0, k: constant(r) },
      { code: BPF.LD | BPF.W | BPF.LEN, jt: 0, jf: 0, k: 0 },
      { code: BPF.LDX | BPF.W | BPF.LEN, jt: 0, jf: 0, k: 0 },
    ]);
    case 3: return r.pick([
      ...(memLoads ? [{ code: BPF.LD | BPF.MEM, jt: 0, jf: 0, k: r.int(16) }, { code: BPF.LDX | BPF.MEM, jt: 0, jf: 0, k: r.int(16) }] : []),
      { code: BPF.ST, jt: 0, jf: 0, k: r.int(16) },
      { code: BPF.STX, jt: 0, jf: 0, k: r.int(16) },
    ]);
    case 4:
    case 5: {
      const op = r.pick(ALU_OPS);
      let k = constant(r);
      if ((op === BPF.DIV || op === BPF.MOD) && k === 0) k = 3; // bpf_validate refuses a constant 0 divisor
      if (op === BPF.LSH || op === BPF.RSH) k &= 31; // libpcap 1.10 shifts by a constant with C's <<, undefined past 31
      return { code: BPF.ALU | op | BPF.K, jt: 0, jf: 0, k };
    }
    case 6: return { code: BPF.ALU | r.pick(ALU_OPS) | BPF.X, jt: 0, jf: 0, k: 0 };
    case 7: return r.pick([
      { code: BPF.ALU | BPF.NEG, jt: 0, jf: 0, k: 0 },
      { code: BPF.MISC | BPF.TAX, jt: 0, jf: 0, k: 0 },
      { code: BPF.MISC | BPF.TXA, jt: 0, jf: 0, k: 0 },
    ]);
    case 8:
    case 9: return { code: BPF.JMP | r.pick(JMP_OPS) | (r.next() < 0.7 ? BPF.K : BPF.X), jt: jump(), jf: jump(), k: constant(r) };
    case 10: return { code: BPF.JMP | BPF.JA, jt: 0, jf: 0, k: jump() };
    default: return r.next() < 0.5 ? { code: BPF.RET | BPF.K, jt: 0, jf: 0, k: constant(r) } : { code: BPF.RET | BPF.A, jt: 0, jf: 0, k: 0 };
  }
}

function randomProgram(r: Rng): BpfInsn[] {
  // libpcap 1.10's interpreter leaves M[] uninitialised, so a program that read a scratch word
  // before storing it would have no defined verdict: most programs store every word first; the
  // rest load none, and start with A and X at 0 (which filterBurst must reset for every frame).
  const memLoads = r.next() < 0.7;
  const insns: BpfInsn[] = [];
  if (memLoads) {
    for (let k = 0; k < 16; k++) insns.push({ code: BPF.LD | BPF.IMM, jt: 0, jf: 0, k: constant(r) }, { code: BPF.ST, jt: 0, jf: 0, k });
    insns.push({ code: BPF.LD | BPF.IMM, jt: 0, jf: 0, k: 0 });
  }
  const body = 2 + r.int(r.next() < 0.9 ? 40 : 400);
  const len = insns.length + body + 1;
  while (insns.length < len - 1) insns.push(randomInsn(r, insns.length, len, memLoads));
  insns.push(r.next() < 0.5 ? { code: BPF.RET | BPF.A, jt: 0, jf: 0, k: 0 } : { code: BPF.RET | BPF.K, jt: 0, jf: 0, k: constant(r) });
  return insns;
}

function randomFrames(r: Rng): RefFrame[] {
  const frames: RefFrame[] = [];
  const n = 1 + r.int(24);
  for (let i = 0; i < n; i++) {
    const len = r.next() < 0.1 ? r.int(4) : r.int(97);
    const data = new Uint8Array(len);
    for (let j = 0; j < len; j++) data[j] = r.next() < 0.3 ? r.pick([0, 0xff, 0x45, 0x08, 0x86, 0xdd, 0x81]) : r.int(256);
    const wirelen = r.next() < 0.7 ? len : len + r.int(3000);
    frames.push({ data, wirelen });
  }
  return frames;
}

describe('translated cBPF agrees with libpcap bpf_filter on random programs', () => {
  const seed = Number(process.env.WIREWASM_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  it(`3000 programs x random frames, identical verdicts (seed ${seed})`, { timeout: 300_000 }, () => {
    const r = rng(seed);
    const programs = Array.from({ length: 3000 }, () => ({ insns: randomProgram(r), frames: randomFrames(r) }));
    const ref = refBpf(programs);
    let frames = 0;
    let acceptedSome = 0;
    for (let p = 0; p < programs.length; p++) {
      const { insns, frames: fs } = programs[p];
      const want = ref[p];
      expect(want, `libpcap's bpf_validate refused generated program ${p} (seed ${seed}):\n${bpfListing(insns)}`).toBeDefined();
      const got = runFilter(new Filter(insns), fs);
      const context = () => `program ${p} (seed ${seed}):\n${bpfListing(insns)}frames: ${fs.map((f) => `${Buffer.from(f.data).toString('hex')}/${f.wirelen}`).join(' ')}`;
      expect([...got.single], context()).toEqual([...want!]);
      expect([...got.burst], context()).toEqual([...want!]);
      expect(got.accepted).toBe(want!.filter((v) => v !== 0).length);
      frames += fs.length;
      if (want!.some((v) => v !== 0)) acceptedSome++;
    }
    // The generator must exercise both verdicts, or agreement would prove little.
    expect(acceptedSome).toBeGreaterThan(programs.length / 10);
    expect(acceptedSome).toBeLessThan(programs.length);
    expect(frames).toBeGreaterThan(programs.length);
  });

  // A frame longer than an engine pool frame is a chain of segments: the translated filter reads
  // across them (loads straddling two included) and judges the whole packet, as libpcap does.
  it(`3000 programs x random frames cut into chains of segments, identical verdicts (seed ${seed})`, { timeout: 300_000 }, () => {
    const r = rng(seed ^ 0x5a5a5a5a);
    const programs = Array.from({ length: 3000 }, () => ({ insns: randomProgram(r), frames: randomFrames(r) }));
    const ref = refBpf(programs);
    const cut = (len: number) => {
      const lens: number[] = [];
      for (let left = len; left > 0; ) {
        const k = 1 + r.int(Math.min(left, r.next() < 0.5 ? 8 : 40));
        lens.push(k);
        left -= k;
      }
      return lens.length ? lens : [0];
    };
    let chained = 0;
    for (let p = 0; p < programs.length; p++) {
      const { insns, frames: fs } = programs[p];
      const want = ref[p]!;
      const got = runChained(new Filter(insns), fs, (len) => {
        const lens = cut(len);
        if (lens.length > 1) chained++;
        return lens;
      });
      const context = () => `program ${p} (seed ${seed}), chained:\n${bpfListing(insns)}frames: ${fs.map((f) => `${Buffer.from(f.data).toString('hex')}/${f.wirelen}`).join(' ')}`;
      expect([...got.burst], context()).toEqual([...want]);
      expect(got.accepted).toBe(want.filter((v) => v !== 0).length);
    }
    expect(chained).toBeGreaterThan(programs.length);
  });
});
