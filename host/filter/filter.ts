// A compiled filter: one WASM module per expression, instantiated once per worker on the shared memory.
import { bpfListing, type BpfInsn } from './bpf.js';
import { compileExpression, type CompileOptions } from './compile.js';
import { translateBpf } from './translate.js';

/** The exports of an instantiated filter (see translate.ts for the calling convention). */
export interface FilterInstance {
  /** Verdict for one frame: 0 rejects, otherwise the snap length. */
  filter(data: number, caplen: number, wirelen: number): number;
  /** Verdicts for a burst list into `verdicts` (u32 each); returns how many were accepted. */
  filterBurst(list: number, count: number, metaBase: number, verdicts: number): number;
}

export class Filter {
  /** The WASM module, compiled once; structured-clonable, so workers can receive it. */
  readonly module: WebAssembly.Module;
  readonly wasm: Uint8Array<ArrayBuffer>;
  readonly text: string;

  constructor(
    readonly insns: readonly BpfInsn[],
    readonly expression?: string,
  ) {
    const t = translateBpf(insns);
    this.wasm = t.wasm;
    this.text = t.text;
    this.module = new WebAssembly.Module(t.wasm);
  }

  /** Compiles a pcap-filter expression with libpcap and translates it. */
  static compile(expression: string, opts: CompileOptions = {}): Filter {
    return new Filter(compileExpression(expression, opts), expression);
  }

  /** The BPF as `tcpdump -d` prints it. */
  get listing(): string {
    return bpfListing(this.insns);
  }

  /** Links the module to a shared memory (the engine's). */
  instantiate(memory: WebAssembly.Memory, module: WebAssembly.Module = this.module): FilterInstance {
    return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as FilterInstance;
  }
}
