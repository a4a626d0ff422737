// pcapng (IETF draft-ietf-opsawg-pcapng): sections, several interfaces each with its own link
// type and timestamp resolution, packets in Enhanced / Simple / obsolete Packet Blocks.
//
// Every block:  | 0 type u32 | 4 total length u32 | body ... padded to 4 | total length u32 |
// Section Header Block (0x0a0d0d0a): | 8 byte-order magic 0x1a2b3c4d | 12 major u16 | 14 minor u16 |
//                                   | 16 section length i64 | 24 options |
// Interface Description Block (1):  | 8 linktype u16 | 10 reserved | 12 snaplen | 16 options |
//                                   options: if_tsresol (9, 1 byte), if_tsoffset (14, i64 seconds)
// Enhanced Packet Block (6):        | 8 interface | 12 ts high | 16 ts low | 20 caplen | 24 origlen | 28 data |
// Simple Packet Block (3):          | 8 origlen | 12 data (caplen = min(origlen, snaplen, block room)) |
// Packet Block (2, obsolete):       | 8 interface u16 | 10 drops u16 | 12 ts high | 16 ts low | 20 caplen | 24 len | 28 data |

import { MAX_RECORD_BYTES, type CaptureRecord } from './record.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const IDB = 1;
const EPB = 6;
const OPT_END = 0;
const OPT_IF_TSRESOL = 9;
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
  for (let o = body + 8; o + 4 <= bodyEnd; ) {
    const code = v.getUint16(o, le);
    const olen = v.getUint16(o + 2, le);
    if (code === OPT_END || o + 4 + olen > bodyEnd) break;
    if (code === OPT_IF_TSRESOL && olen >= 1) tsresol = bytes[o + 4];
    if (code === OPT_IF_TSOFFSET && olen >= 8) offsetNs = v.getBigInt64(o + 4, le) * 1_000_000_000n;
    o += 4 + ((olen + 3) & ~3);
  }
  return { linktype: v.getUint16(body, le), snaplen: v.getUint32(body + 4, le), toNs: resolution(tsresol), offsetNs };
}

export interface PcapngInterface {
  linktype: number;
  snaplen?: number;
  /** Timestamp resolution: 'us' (default, if_tsresol 6) or 'ns' (9). */
  resolution?: 'us' | 'ns';
}

/** A pcapng file with one section, the given interfaces and one Enhanced Packet Block per record. */
export function writePcapng(interfaces: PcapngInterface[], records: Iterable<CaptureRecord>, opts: { bigEndian?: boolean } = {}): Uint8Array {
  const le = !opts.bigEndian;
  const chunks: Uint8Array[] = [];
  const block = (type: number, bodyLen: number, fill: (v: DataView, b: Uint8Array) => void) => {
    const len = 12 + ((bodyLen + 3) & ~3);
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, le);
    v.setUint32(4, len, le);
    fill(v, b);
    v.setUint32(len - 4, len, le);
    chunks.push(b);
  };
  block(PCAPNG_SHB, 16, (v) => {
    v.setUint32(8, BYTE_ORDER_MAGIC, le);
    v.setUint16(12, 1, le);
    v.setUint16(14, 0, le);
    v.setBigInt64(16, -1n, le);
  });
  for (const itf of interfaces) {
    const ns = itf.resolution === 'ns';
    block(IDB, 8 + (ns ? 12 : 0), (v, b) => {
      v.setUint16(8, itf.linktype, le);
      v.setUint32(12, itf.snaplen ?? MAX_RECORD_BYTES, le);
      if (ns) {
        v.setUint16(16, OPT_IF_TSRESOL, le);
        v.setUint16(18, 1, le);
        b[20] = 9;
        // opt_endofopt follows as zeros
      }
    });
  }
  for (const r of records) {
    const itf = interfaces[r.interfaceId];
    if (!itf) throw new Error(`record names interface ${r.interfaceId}, but ${interfaces.length} were given`);
    if (itf.linktype !== r.linktype) throw new Error(`record has link type ${r.linktype} but interface ${r.interfaceId} is ${itf.linktype}`);
    const units = itf.resolution === 'ns' ? r.timestampNs : r.timestampNs / 1000n;
    block(EPB, 20 + r.data.length, (v, b) => {
      v.setUint32(8, r.interfaceId, le);
      v.setUint32(12, Number(units >> 32n), le);
      v.setUint32(16, Number(units & 0xffffffffn), le);
      v.setUint32(20, r.data.length, le);
      v.setUint32(24, r.wireLength, le);
      b.set(r.data, 28);
    });
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) out.set(c, o), (o += c.length);
  return out;
}

/** The encoder of a one-interface pcapng file written as records arrive (host/pcap/rotate.ts). */
export function pcapngEncoder(itf: PcapngInterface): { header(): Uint8Array; record(r: CaptureRecord): Uint8Array } {
  const header = writePcapng([itf], []);
  return { header: () => header, record: (r) => writePcapng([itf], [r]).subarray(header.length) };
}
