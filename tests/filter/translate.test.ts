// The translator's contract besides the verdicts (those are the fuzz and the corpus differential):
// what it refuses and how it says so, the shape of the module, and the two ways a burst list names
// its frames.
import { describe, expect, it } from 'vitest';
import { BPF, Filter, FilterError, compileExpression, translateBpf, type BpfInsn } from '../../host/filter/index.js';
import { readModuleShape } from '../../host/wasm-binary.js';

const I = (code: number, k = 0, jt = 0, jf = 0): BpfInsn => ({ code, jt, jf, k });
const RET0 = I(BPF.RET | BPF.K, 0);

function refused(insns: BpfInsn[]): string {
  try {
    translateBpf(insns);
  } catch (e) {
    expect(e).toBeInstanceOf(FilterError);
    return (e as Error).message;
  }
  throw new Error('translated a program it should refuse');
}

describe('what the translator refuses, naming the instruction', () => {
  it('the Linux ancillary load libpcap emits for `inbound`, by its field name', () => {
    const insns = compileExpression('inbound', { linktype: 1 });
    expect(insns[0].k >>> 0).toBeGreaterThanOrEqual(0xfffff000);
    expect(refused(insns)).toMatch(/instruction 0 \(\(000\) ldh +\[pkttype\]\).*"pkttype".*AF_PACKET/);
  });

  it("the backward jump libpcap emits for `protochain`", () => {
    const insns = compileExpression('ip6 protochain 6', { linktype: 1 });
    expect(insns.some((i) => i.code === (BPF.JMP | BPF.JA) && (i.k | 0) < 0)).toBe(true);
    expect(refused(insns)).toMatch(/instruction \d+ \(\(\d{3}\) ja .*backward jump.*protochain/);
  });

  it('programs bpf_validate would refuse, each with its reason', () => {
    expect(refused([I(BPF.JMP | BPF.JEQ | BPF.K, 1, 0, 5), RET0])).toMatch(/instruction 0 .*jumps past the end/);
    expect(refused([I(BPF.JMP | BPF.JA, 7), RET0])).toMatch(/instruction 0 .*jumps past the end/);
    expect(refused([I(BPF.ALU | BPF.DIV | BPF.K, 0), RET0])).toMatch(/instruction 0 .*division by the constant 0/);
    expect(refused([I(BPF.ALU | BPF.MOD | BPF.K, 0), RET0])).toMatch(/division by the constant 0/);
    expect(refused([I(BPF.ST, 16), RET0])).toMatch(/instruction 0 .*scratch memory has 16 words/);
    expect(refused([I(0xff), RET0])).toMatch(/instruction 0 .*unknown opcode 0xff/);
    expect(refused([I(BPF.LD | BPF.IMM, 1)])).toMatch(/last instruction is not a ret/);
    expect(refused([])).toMatch(/empty/);
  });
});

describe('the module', () => {
  it('imports a shared env.memory any shared memory satisfies, exports filter and filterBurst, and holds no state', () => {
    const f = Filter.compile('udp port 53');
    const shape = readModuleShape(f.wasm);
    expect(shape.imports).toEqual([{ module: 'env', name: 'memory', kind: 'memory', memory: { min: 0, max: 65536, shared: true } }]);
    const exp = Object.fromEntries(shape.exports.map((e) => [e.name, e.signature]));
    expect(exp).toEqual({
      filter: { params: ['i32', 'i32', 'i32'], results: ['i32'] },
      filterBurst: { params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] },
    });
    expect([shape.globals, shape.dataSegments, shape.memories.length, shape.hasStart]).toEqual([0, 0, 0, false]);
    // Links to memories of any size: a one-page memory and a large one.
    for (const [initial, maximum] of [[1, 1], [2, 65536]]) expect(() => f.instantiate(new WebAssembly.Memory({ initial, maximum, shared: true }))).not.toThrow();
  });

  it('filterBurst takes record addresses (metaBase 0) as well as frame indexes, with the same verdicts', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const dv = new DataView(memory.buffer);
    const u8 = new Uint8Array(memory.buffer);
    // Three frames: IPv4/UDP to port 53, IPv4/UDP to port 54, and the first cut to 20 bytes.
    const udp = (port: number) => {
      const b = new Uint8Array(42);
      b.set([0x08, 0x00], 12);
      b[14] = 0x45;
      b[23] = 17;
      b.set([0x03, 0xe8, port >> 8, port & 0xff], 34); // source port 1000
      return b;
    };
    const frames = [udp(53), udp(54), udp(53).subarray(0, 20)];
    const metaBase = 1024;
    frames.forEach((fr, i) => {
      const data = 8192 + i * 100;
      u8.set(fr, data);
      dv.setUint32(metaBase + i * 64, data, true);
      dv.setUint32(metaBase + i * 64 + 4, fr.length, true);
      dv.setUint32(metaBase + i * 64 + 8, 42, true);
      dv.setUint32(metaBase + i * 64 + 60, 0xffffffff, true); // next: no further segment
      dv.setUint32(256 + i * 4, i, true); // index list
      dv.setUint32(512 + i * 4, metaBase + i * 64, true); // address list
    });
    const inst = Filter.compile('udp dst port 53', { snaplen: 1500 }).instantiate(memory);
    expect(inst.filterBurst(256, 3, metaBase, 768)).toBe(1);
    expect([0, 1, 2].map((i) => dv.getUint32(768 + i * 4, true))).toEqual([1500, 0, 0]);
    expect(inst.filterBurst(512, 3, 0, 896)).toBe(1);
    expect([0, 1, 2].map((i) => dv.getUint32(896 + i * 4, true))).toEqual([1500, 0, 0]);
    expect(inst.filterBurst(256, 0, metaBase, 768)).toBe(0);
  });
});
