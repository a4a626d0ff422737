// `wirewasm filter -d EXPRESSION`: what a filter expression compiles to, as `tcpdump -d` shows the
// BPF, followed by the WASM module the engine runs (WebAssembly text, written by our emitter).
import type { Command } from 'commander';
import { DEFAULT_SNAPLEN, Filter, bpfListing, compileExpression, linktypeName, parseLinktype } from '../../filter/index.js';

export function register(program: Command): void {
  program
    .command('filter')
    .description('compile a pcap-filter expression (as tcpdump takes it) with libpcap and print its BPF and WASM')
    .argument('<expression...>', 'the filter expression, e.g. "udp port 53 and not host 10.0.0.1"')
    .option('-d', 'print the BPF as `tcpdump -d` does, then the WASM (the default)')
    .option('--bpf', 'print only the BPF (byte-for-byte what `tcpdump -d` prints)')
    .option('--wasm', 'print only the WASM')
    .option('-y, --linktype <N|NAME>', 'link type of the frames: a LINKTYPE_ number or a name (EN10MB, RAW, LINUX_SLL...)', 'EN10MB')
    .option('-s, --snaplen <bytes>', 'snapshot length: the verdict of an accepting filter', String(DEFAULT_SNAPLEN))
    .option('-O, --no-optimize', "do not run libpcap's optimizer (as tcpdump -O)")
    .action((words: string[], o: { bpf?: boolean; wasm?: boolean; linktype: string; snaplen: string; optimize: boolean }) => {
      const snaplen = Number(o.snaplen);
      if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x7fffffff) throw new Error(`-s ${o.snaplen}: the snapshot length is a whole number of bytes from 1 to 2147483647`);
      const linktype = parseLinktype(o.linktype);
      const expression = words.join(' ');
      const insns = compileExpression(expression, { linktype, snaplen, optimize: o.optimize });
      // The BPF is printed before translating, so a program the engine refuses is still shown.
      if (!o.wasm) process.stdout.write(bpfListing(insns));
      if (o.bpf) return;
      const f = new Filter(insns, expression);
      if (!o.wasm) process.stdout.write(`\n;; ${insns.length} BPF instructions for ${linktypeName(linktype)}, snaplen ${snaplen} -> ${f.wasm.length} bytes of WASM\n`);
      process.stdout.write(f.text);
    });
}
