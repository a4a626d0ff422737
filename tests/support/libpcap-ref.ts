// libpcap as the filter tests' reference: tests/support/libpcap-ref.c, compiled once per run with
// `cc -lpcap`, reading captures with pcap_open_offline and judging with pcap_offline_filter, or
// running raw programs through bpf_filter.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeBpf, type BpfInsn } from '../../host/filter/index.js';

let exe: string | undefined;

export function libpcapRef(): string {
  if (exe) return exe;
  const src = path.join(path.dirname(fileURLToPath(import.meta.url)), 'libpcap-ref.c');
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'wirewasm-libpcap-ref-')), 'libpcap-ref');
  execFileSync('cc', ['-O2', '-o', out, src, '-lpcap'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return (exe = out);
}

export interface RefFile {
  path: string;
  /** Set when libpcap could not open the file. */
  openError?: string;
  dlt: number;
  snaplen: number;
  frames: number;
  /** caplen and len of each frame as libpcap hands them to pcap_offline_filter. */
  lengths: [caplen: number, len: number][];
  /** libpcap's error when the file ends in damage. */
  readError?: string;
  /** Per expression index: the compile error, or the verdicts of the accepted frames. */
  results: Map<number, { error: string } | { accepted: Map<number, number> }>;
}

/** Runs every expression over every capture through libpcap. */
export function refFiles(expressions: string[], files: string[]): RefFile[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wirewasm-filter-exprs-'));
  const list = path.join(dir, 'expressions');
  writeFileSync(list, expressions.join('\n') + '\n');
  const text = execFileSync(libpcapRef(), ['files', list, ...files], { maxBuffer: 1 << 30, encoding: 'utf8' });
  const out: RefFile[] = [];
  let cur: RefFile | undefined;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const kind = line[0];
    const rest = line.slice(2);
    if (kind === 'F' || kind === 'E') {
      const sp = kind === 'F' ? rest.split(' ') : [];
      cur = kind === 'F'
        ? { path: sp.slice(0, -3).join(' '), dlt: Number(sp.at(-3)), snaplen: Number(sp.at(-2)), frames: Number(sp.at(-1)), lengths: [], results: new Map() }
        : { path: files.find((f) => rest.startsWith(f + ' '))!, openError: rest, dlt: -1, snaplen: 0, frames: 0, lengths: [], results: new Map() };
      out.push(cur);
    } else if (kind === 'T') cur!.readError = rest;
    else if (kind === 'L') cur!.lengths = rest ? rest.split(',').map((x) => x.split('/').map(Number) as [number, number]) : [];
    else if (kind === 'C') {
      const sp = rest.indexOf(' ');
      cur!.results.set(Number(rest.slice(0, sp)), { error: rest.slice(sp + 1) });
    } else if (kind === 'A') {
      const [idx, , list] = rest.split(' ');
      const accepted = new Map<number, number>();
      for (const item of list ? list.split(',') : []) {
        const [i, v] = item.split(':');
        accepted.set(Number(i), Number(v) >>> 0);
      }
      cur!.results.set(Number(idx), { accepted });
    }
  }
  return out;
}

export interface RefFrame {
  data: Uint8Array;
  wirelen: number;
}

/** bpf_validate and bpf_filter of libpcap over each program's frames: undefined when invalid. */
export function refBpf(programs: { insns: BpfInsn[]; frames: RefFrame[] }[]): (Uint32Array | undefined)[] {
  const parts: Uint8Array[] = [];
  const u32 = (v: number) => new Uint8Array(new Uint32Array([v >>> 0]).buffer);
  for (const p of programs) {
    parts.push(u32(p.insns.length), encodeBpf(p.insns), u32(p.frames.length));
    for (const f of p.frames) parts.push(u32(f.wirelen), u32(f.data.length), f.data);
  }
  const out = execFileSync(libpcapRef(), ['bpf'], { input: Buffer.concat(parts), maxBuffer: 1 << 30 });
  const words = new Uint32Array(out.buffer, out.byteOffset, out.byteLength / 4);
  let at = 0;
  return programs.map((p) => {
    const valid = words[at++];
    if (!valid) return undefined;
    const v = words.slice(at, at + p.frames.length);
    at += p.frames.length;
    return v;
  });
}
