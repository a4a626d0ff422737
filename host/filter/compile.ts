// Filter expressions (the pcap-filter language) -> classic BPF, by libpcap's own compiler through
// the addon (native/pcap-filter.cc). Link types: capture files and the engine's metadata carry
// LINKTYPE_ values; pcap_compile takes DLT_ values. They differ for a handful of old numbers
// (pcap-linktype(7)); this table is the one place that maps them.
import { loadNative } from '../native.js';
import { decodeBpf, type BpfInsn } from './bpf.js';
import { FilterError } from './translate.js';

/** LINKTYPE_ value -> DLT_ value on Linux, where they differ. */
const LINKTYPE_TO_DLT: Record<number, number> = { 100: 11, 101: 12, 102: 15, 103: 16, 106: 19 };
const DLT_TO_LINKTYPE: Record<number, number> = Object.fromEntries(Object.entries(LINKTYPE_TO_DLT).map(([l, d]) => [d, Number(l)]));

/** libpcap's default snapshot length (MAXIMUM_SNAPLEN): what `ret` returns when nothing else is asked. */
export const DEFAULT_SNAPLEN = 262144;

export const linktypeToDlt = (linktype: number) => LINKTYPE_TO_DLT[linktype] ?? linktype;
export const dltToLinktype = (dlt: number) => DLT_TO_LINKTYPE[dlt] ?? dlt;

interface PcapAddon {
  pcapCompile(expression: string, dlt: number, snaplen: number, optimize: boolean, netmask: number): Uint8Array;
  pcapDatalinkNameToVal(name: string): number;
  pcapDatalinkValToName(dlt: number): string | null;
  pcapLibVersion(): string;
}

const pcap = () => loadNative() as unknown as PcapAddon;

/** libpcap's name of a link type (EN10MB, RAW, LINUX_SLL...), or LINKTYPE_n when it has none. */
export function linktypeName(linktype: number): string {
  return pcap().pcapDatalinkValToName(linktypeToDlt(linktype)) ?? `LINKTYPE_${linktype}`;
}

/** `--linktype N|NAME`: a LINKTYPE_ number, or a libpcap name (EN10MB, RAW, LINUX_SLL, with or without DLT_). */
export function parseLinktype(spec: string): number {
  if (/^\d+$/.test(spec)) return Number(spec);
  const dlt = pcap().pcapDatalinkNameToVal(spec.replace(/^(DLT|LINKTYPE)_/i, ''));
  if (dlt < 0) throw new FilterError(`unknown link type "${spec}": give a LINKTYPE_ number or a name such as EN10MB, RAW, LINUX_SLL, LINUX_SLL2 (pcap-linktype(7))`);
  return dltToLinktype(dlt);
}

export interface CompileOptions {
  /** LINKTYPE_ of the frames the filter will see (default 1, Ethernet). */
  linktype?: number;
  /** Snapshot length: the verdict an accepting `ret` returns (default 262144). */
  snaplen?: number;
  /** Run libpcap's optimizer, as tcpdump does unless -O (default true). */
  optimize?: boolean;
  /** IPv4 netmask for `ip broadcast` (default 0, what tcpdump passes when reading a file). */
  netmask?: number;
}

/** Compiles `expression` to classic BPF as tcpdump would for this link type and snaplen. */
export function compileExpression(expression: string, opts: CompileOptions = {}): BpfInsn[] {
  const linktype = opts.linktype ?? 1;
  let bytes: Uint8Array;
  try {
    bytes = pcap().pcapCompile(expression, linktypeToDlt(linktype), opts.snaplen ?? DEFAULT_SNAPLEN, opts.optimize ?? true, opts.netmask ?? 0);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code === 'EFILTER') throw new FilterError(`filter "${expression}" (link type ${linktypeName(linktype)}): ${err.message}`);
    throw e;
  }
  return decodeBpf(bytes);
}

/** The libpcap that compiles expressions, e.g. "libpcap version 1.10.3 (with TPACKET_V3)". */
export const libpcapVersion = () => pcap().pcapLibVersion();
