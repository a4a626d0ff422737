// Classic BPF (the `struct bpf_insn` programs pcap_compile emits and SO_ATTACH_FILTER takes):
// decoding, the validity rules libpcap's bpf_validate and the kernel share, and a listing in the
// format of `tcpdump -d`.
//
// struct bpf_insn (8 bytes, host byte order):  | 0 code u16 | 2 jt u8 | 3 jf u8 | 4 k u32 |
// code = class (low 3 bits) | size (LD/LDX: 0x18) | mode (LD/LDX: 0xe0) | op (ALU/JMP: 0xf0) | src (0x08)

export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const BPF_INSN_BYTES = 8;
/** Scratch memory words (M[0..15]). */
export const BPF_MEMWORDS = 16;
/** Linux's ancillary-data loads live at k >= SKF_AD_OFF (linux/filter.h: -0x1000). */
export const SKF_AD_OFF = 0xfffff000;

export const BPF = {
  LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07,
  W: 0x00, H: 0x08, B: 0x10,
  IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, LEN: 0x80, MSH: 0xa0,
  ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70, NEG: 0x80, MOD: 0x90, XOR: 0xa0,
  JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40,
  K: 0x00, X: 0x08, A: 0x10,
  TAX: 0x00, TXA: 0x80,
} as const;

/** Linux ancillary loads (linux/filter.h SKF_AD_*), by offset from SKF_AD_OFF. */
export const SKF_AD_NAMES: Record<number, string> = {
  0: 'proto', 4: 'pkttype', 8: 'ifindex', 12: 'nlattr', 16: 'nlattr_nest', 20: 'mark', 24: 'queue', 28: 'hatype',
  32: 'rxhash', 36: 'cpu', 40: 'alu_xor_x', 44: 'vlan_tci', 48: 'vlan_avail', 52: 'pay_offset', 56: 'random', 60: 'vlan_tpid',
};

export const bpfClass = (code: number) => code & 0x07;
export const bpfSize = (code: number) => code & 0x18;
export const bpfMode = (code: number) => code & 0xe0;
export const bpfOp = (code: number) => code & 0xf0;
export const bpfSrc = (code: number) => code & 0x08;

/** Decodes the bytes pcap_compile returns (host byte order: little-endian on every platform Node runs the addon on). */
export function decodeBpf(bytes: Uint8Array): BpfInsn[] {
  if (bytes.length % BPF_INSN_BYTES) throw new Error(`a BPF program is a multiple of ${BPF_INSN_BYTES} bytes, got ${bytes.length}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: BpfInsn[] = [];
  for (let o = 0; o < bytes.length; o += BPF_INSN_BYTES)
    out.push({ code: v.getUint16(o, true), jt: v.getUint8(o + 2), jf: v.getUint8(o + 3), k: v.getUint32(o + 4, true) });
  return out;
}

/** The inverse of decodeBpf: the bytes SO_ATTACH_FILTER and bpf_filter take. */
export function encodeBpf(insns: readonly BpfInsn[]): Uint8Array {
  const bytes = new Uint8Array(insns.length * BPF_INSN_BYTES);
  const v = new DataView(bytes.buffer);
  insns.forEach((i, n) => {
    v.setUint16(n * 8, i.code, true);
    v.setUint8(n * 8 + 2, i.jt);
    v.setUint8(n * 8 + 3, i.jf);
    v.setUint32(n * 8 + 4, i.k >>> 0, true);
  });
  return bytes;
}

const OPS: Record<number, [string, string]> = {
  [BPF.RET | BPF.K]: ['ret', '#%d'],
  [BPF.RET | BPF.A]: ['ret', ''],
  [BPF.LD | BPF.W | BPF.ABS]: ['ld', '[%d]'],
  [BPF.LD | BPF.H | BPF.ABS]: ['ldh', '[%d]'],
  [BPF.LD | BPF.B | BPF.ABS]: ['ldb', '[%d]'],
  [BPF.LD | BPF.W | BPF.LEN]: ['ld', '#pktlen'],
  [BPF.LDX | BPF.W | BPF.LEN]: ['ldx', '#pktlen'],
  [BPF.LD | BPF.W | BPF.IND]: ['ld', '[x + %d]'],
  [BPF.LD | BPF.H | BPF.IND]: ['ldh', '[x + %d]'],
  [BPF.LD | BPF.B | BPF.IND]: ['ldb', '[x + %d]'],
  [BPF.LD | BPF.IMM]: ['ld', '#0x%x'],
  [BPF.LDX | BPF.IMM]: ['ldx', '#0x%x'],
  [BPF.LDX | BPF.MSH | BPF.B]: ['ldxb', '4*([%d]&0xf)'],
  [BPF.LD | BPF.MEM]: ['ld', 'M[%d]'],
  [BPF.LDX | BPF.MEM]: ['ldx', 'M[%d]'],
  [BPF.ST]: ['st', 'M[%d]'],
  [BPF.STX]: ['stx', 'M[%d]'],
  [BPF.JMP | BPF.JA]: ['ja', '%d'],
  [BPF.JMP | BPF.JGT | BPF.K]: ['jgt', '#0x%x'],
  [BPF.JMP | BPF.JGE | BPF.K]: ['jge', '#0x%x'],
  [BPF.JMP | BPF.JEQ | BPF.K]: ['jeq', '#0x%x'],
  [BPF.JMP | BPF.JSET | BPF.K]: ['jset', '#0x%x'],
  [BPF.JMP | BPF.JGT | BPF.X]: ['jgt', 'x'],
  [BPF.JMP | BPF.JGE | BPF.X]: ['jge', 'x'],
  [BPF.JMP | BPF.JEQ | BPF.X]: ['jeq', 'x'],
  [BPF.JMP | BPF.JSET | BPF.X]: ['jset', 'x'],
  [BPF.ALU | BPF.ADD | BPF.X]: ['add', 'x'],
  [BPF.ALU | BPF.SUB | BPF.X]: ['sub', 'x'],
  [BPF.ALU | BPF.MUL | BPF.X]: ['mul', 'x'],
  [BPF.ALU | BPF.DIV | BPF.X]: ['div', 'x'],
  [BPF.ALU | BPF.MOD | BPF.X]: ['mod', 'x'],
  [BPF.ALU | BPF.AND | BPF.X]: ['and', 'x'],
  [BPF.ALU | BPF.OR | BPF.X]: ['or', 'x'],
  [BPF.ALU | BPF.XOR | BPF.X]: ['xor', 'x'],
  [BPF.ALU | BPF.LSH | BPF.X]: ['lsh', 'x'],
  [BPF.ALU | BPF.RSH | BPF.X]: ['rsh', 'x'],
  [BPF.ALU | BPF.ADD | BPF.K]: ['add', '#%d'],
  [BPF.ALU | BPF.SUB | BPF.K]: ['sub', '#%d'],
  [BPF.ALU | BPF.MUL | BPF.K]: ['mul', '#%d'],
  [BPF.ALU | BPF.DIV | BPF.K]: ['div', '#%d'],
  [BPF.ALU | BPF.MOD | BPF.K]: ['mod', '#%d'],
  [BPF.ALU | BPF.AND | BPF.K]: ['and', '#0x%x'],
  [BPF.ALU | BPF.OR | BPF.K]: ['or', '#0x%x'],
  [BPF.ALU | BPF.XOR | BPF.K]: ['xor', '#0x%x'],
  [BPF.ALU | BPF.LSH | BPF.K]: ['lsh', '#%d'],
  [BPF.ALU | BPF.RSH | BPF.K]: ['rsh', '#%d'],
  [BPF.ALU | BPF.NEG]: ['neg', ''],
  [BPF.MISC | BPF.TAX]: ['tax', ''],
  [BPF.MISC | BPF.TXA]: ['txa', ''],
};

/** True for a code libpcap's interpreter knows. */
export const isKnownOpcode = (code: number) => code in OPS;

/** One instruction as `tcpdump -d` prints it (libpcap's bpf_image), numbered n. */
export function bpfImage(insn: BpfInsn, n: number): string {
  const known = OPS[insn.code];
  const [op, fmt] = known ?? ['unimp', '0x%x'];
  let v = known ? insn.k | 0 : insn.code;
  if (insn.code === (BPF.JMP | BPF.JA)) v = (n + 1 + insn.k) | 0;
  let operand = fmt.replace('%d', String(v)).replace('%x', (v >>> 0).toString(16));
  const ad = insn.k - SKF_AD_OFF;
  if (known && bpfClass(insn.code) === BPF.LD && bpfMode(insn.code) === BPF.ABS && insn.k >= SKF_AD_OFF && SKF_AD_NAMES[ad]) operand = `[${SKF_AD_NAMES[ad]}]`;
  const num = `(${String(n).padStart(3, '0')})`;
  if (bpfClass(insn.code) === BPF.JMP && bpfOp(insn.code) !== BPF.JA && known)
    return `${num} ${op.padEnd(8)} ${operand.padEnd(16)} jt ${n + 1 + insn.jt}\tjf ${n + 1 + insn.jf}`;
  return `${num} ${op.padEnd(8)} ${operand}`;
}

/** The whole program as `tcpdump -d` prints it, one line per instruction. */
export function bpfListing(insns: readonly BpfInsn[]): string {
  return insns.map((i, n) => bpfImage(i, n) + '\n').join('');
}

/** Why `insns` is not a program the kernel or libpcap would run, or undefined when it is valid. */
export function bpfInvalid(insns: readonly BpfInsn[]): string | undefined {
  if (insns.length === 0) return 'the program is empty';
  for (let n = 0; n < insns.length; n++) {
    const i = insns[n];
    const at = `instruction ${n} (${bpfImage(i, n)})`;
    if (!isKnownOpcode(i.code)) return `${at}: unknown opcode 0x${i.code.toString(16)}`;
    const cls = bpfClass(i.code);
    if ((cls === BPF.ST || cls === BPF.STX || ((cls === BPF.LD || cls === BPF.LDX) && bpfMode(i.code) === BPF.MEM)) && i.k >= BPF_MEMWORDS)
      return `${at}: scratch memory has ${BPF_MEMWORDS} words`;
    if (cls === BPF.ALU && (bpfOp(i.code) === BPF.DIV || bpfOp(i.code) === BPF.MOD) && bpfSrc(i.code) === BPF.K && i.k === 0) return `${at}: division by the constant 0`;
    if (cls === BPF.JMP) {
      if (bpfOp(i.code) === BPF.JA) {
        if ((i.k | 0) < 0) return `${at}: backward jump (libpcap emits these only for \`protochain\`; classic BPF in the kernel and here runs forward only)`;
        if (n + 1 + i.k >= insns.length) return `${at}: jumps past the end`;
      } else if (n + 1 + Math.max(i.jt, i.jf) >= insns.length) return `${at}: jumps past the end`;
    }
  }
  if (bpfClass(insns[insns.length - 1].code) !== BPF.RET) return 'the last instruction is not a ret';
  return undefined;
}
