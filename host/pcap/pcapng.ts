// pcapng (IETF draft-ietf-opsawg-pcapng): sections, several interfaces each with its own link
// type and timestamp resolution, packets in Enhanced / Simple / obsolete Packet Blocks.
//
// Every block:  | 0 type u32 | 4 total length u32 | body ... padded to 4 | total length u32 |
// Section Header Block (0x0a0d0d0a): | 8 byte-order magic 0x1a2b3c4d | 12 major u16 | 14 minor u16 |
//                                   | 16 section length i64 | 24 options |
// Interface Description Block (1):  | 8 linktype u16 | 10 reserved | 12 snaplen | 16 options |
//                                   options: if_name (2), if_description (3): UTF-8;
//                                   if_tsresol (9, 1 byte), if_tsoffset (14, i64 seconds)
// Enhanced Packet Block (6):        | 8 interface | 12 ts high | 16 ts low | 20 caplen | 24 origlen | 28 data |
// Simple Packet Block (3):          | 8 origlen | 12 data (caplen = min(origlen, snaplen, block room)) |
//   options (SHB after its 16 fixed bytes, IDB after 8, EPB after its data padded to 4):
//                                   | code u16 | length u16 | value padded to 4 | ... | 0 0 (opt_endofopt) |
// Packet Block (2, obsolete):       | 8 interface u16 | 10 drops u16 | 12 ts high | 16 ts low | 20 caplen | 24 len | 28 data |


export const PCAPNG_SHB = 0x0a0d0d0a;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const IDB = 1;
export const EPB = 6;
const OPT_END = 0;
/** opt_comment: UTF-8 text, allowed in every block's options. */
export const OPT_COMMENT = 1;
export const OPT_IF_NAME = 2;
export const OPT_IF_DESCRIPTION = 3;
export const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

export function isPcapng(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === PCAPNG_SHB;
}

/** What a packet block needs of its interface. */
export interface Interface {
  linktype: number;
  snaplen: number;
  /** Timestamp units to nanoseconds (if_tsresol). */
  toNs: (units: bigint) => bigint;
  offsetNs: bigint;
  /** The interface's name, description and comment options, when it has them (kept by `dissect -w`). */
  name?: string;
  description?: string;
  comment?: string;
}

function resolution(code: number): (units: bigint) => bigint {
  if (code & 0x80) {
    const per = 1n << BigInt(code & 0x7f);
    return (u) => (u * 1_000_000_000n) / per;
  }
  if (code <= 9) {
    const mul = 10n ** BigInt(9 - code);
    return (u) => u * mul;
  }
  const div = 10n ** BigInt(code - 9);
  return (u) => u / div;
}

/** The interface an Interface Description Block (body [body, bodyEnd) of `bytes`) describes. */
export function readInterface(bytes: Uint8Array, v: DataView, body: number, bodyEnd: number, le: boolean): Interface {
  let tsresol = 6;
  let offsetNs = 0n;
  const itf: Partial<Interface> = {};
  for (let o = body + 8; o + 4 <= bodyEnd; ) {
    const code = v.getUint16(o, le);
    const olen = v.getUint16(o + 2, le);
    if (code === OPT_END || o + 4 + olen > bodyEnd) break;
    if (code === OPT_IF_TSRESOL && olen >= 1) tsresol = bytes[o + 4];
    if (code === OPT_IF_TSOFFSET && olen >= 8) offsetNs = v.getBigInt64(o + 4, le) * 1_000_000_000n;
    const text = () => utf8.decode(bytes.subarray(o + 4, o + 4 + olen));
    if (code === OPT_IF_NAME) itf.name ??= text();
    if (code === OPT_IF_DESCRIPTION) itf.description ??= text();
    if (code === OPT_COMMENT) itf.comment ??= text();
    o += 4 + ((olen + 3) & ~3);
  }
  return { linktype: v.getUint16(body, le), snaplen: v.getUint32(body + 4, le), toNs: resolution(tsresol), offsetNs, ...itf };
}

const utf8 = new TextDecoder();

/** The first opt_comment among the options at [from, to) of `bytes`, or undefined. */
export function readComment(bytes: Uint8Array, v: DataView, from: number, to: number, le: boolean): string | undefined {
  for (let o = from; o + 4 <= to; ) {
    const code = v.getUint16(o, le);
    const olen = v.getUint16(o + 2, le);
    if (code === OPT_END || o + 4 + olen > to) return undefined;
    if (code === OPT_COMMENT) return utf8.decode(bytes.subarray(o + 4, o + 4 + olen));
    o += 4 + ((olen + 3) & ~3);
  }
  return undefined;
}

