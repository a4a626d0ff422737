// Classic libpcap files (https://www.tcpdump.org/manpages/pcap-savefile.5.html, IETF draft
// draft-ietf-opsawg-pcap): microsecond (magic a1b2c3d4) or nanosecond (a1b23c4d) timestamps,
// written in either byte order (the magic, read back, tells which).
//
// File header (24 bytes)                         Record header (16 bytes), then caplen bytes
// | 0 magic | 4 major u16 | 6 minor u16 |        | 0 ts seconds | 4 ts micro/nanoseconds |
// | 8 thiszone | 12 sigfigs | 16 snaplen |       | 8 captured length | 12 original length  |
// | 20 linktype (low 16 bits; FCS info above) |

import { CaptureFormatError, MAX_RECORD_BYTES, type CaptureRecord } from './record.js';

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
const FILE_HEADER = 24;
const RECORD_HEADER = 16;

export interface PcapHeader {
  nanosecond: boolean;
  bigEndian: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linktype: number;
}

/** True when the first four bytes are a classic pcap magic in either byte order. */
export function isPcap(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const v = new DataView(bytes.buffer, bytes.byteOffset, 4);
  return [PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO].some((m) => v.getUint32(0, true) === m || v.getUint32(0, false) === m);
}

export function readPcapHeader(bytes: Uint8Array): PcapHeader {
  if (bytes.length < FILE_HEADER) throw new CaptureFormatError(0, `pcap file header needs ${FILE_HEADER} bytes, the file has ${bytes.length}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = v.getUint32(0, true);
  const be = v.getUint32(0, false);
  let bigEndian: boolean;
  let nanosecond: boolean;
  if (le === PCAP_MAGIC_MICRO || le === PCAP_MAGIC_NANO) (bigEndian = false), (nanosecond = le === PCAP_MAGIC_NANO);
  else if (be === PCAP_MAGIC_MICRO || be === PCAP_MAGIC_NANO) (bigEndian = true), (nanosecond = be === PCAP_MAGIC_NANO);
  else throw new CaptureFormatError(0, `not a pcap file: magic 0x${be.toString(16).padStart(8, '0')}`);
  return {
    nanosecond,
    bigEndian,
    versionMajor: v.getUint16(4, !bigEndian),
    versionMinor: v.getUint16(6, !bigEndian),
    snaplen: v.getUint32(16, !bigEndian),
    linktype: v.getUint32(20, !bigEndian) & 0xffff,
  };
}

export interface PcapWriteOptions {
  linktype: number;
  nanosecond?: boolean;
  bigEndian?: boolean;
  snaplen?: number;
}

/** A classic pcap file of `records` (all must share the file's link type). */
export function writePcap(records: Iterable<Omit<CaptureRecord, 'interfaceId'> & { interfaceId?: number }>, opts: PcapWriteOptions): Uint8Array {
  const list = [...records];
  const total = FILE_HEADER + list.reduce((n, r) => n + RECORD_HEADER + r.data.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const le = !opts.bigEndian;
  v.setUint32(0, opts.nanosecond ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, le);
  v.setUint16(4, 2, le);
  v.setUint16(6, 4, le);
  v.setUint32(16, opts.snaplen ?? MAX_RECORD_BYTES, le);
  v.setUint32(20, opts.linktype, le);
  const div = opts.nanosecond ? 1n : 1000n;
  let off = FILE_HEADER;
  for (const r of list) {
    if (r.linktype !== opts.linktype)
      throw new Error(`pcap holds one link type (${opts.linktype}) but a record has ${r.linktype}: write pcapng for mixed link types`);
    v.setUint32(off, Number(r.timestampNs / 1_000_000_000n), le);
    v.setUint32(off + 4, Number((r.timestampNs % 1_000_000_000n) / div), le);
    v.setUint32(off + 8, r.data.length, le);
    v.setUint32(off + 12, r.wireLength, le);
    out.set(r.data, off + RECORD_HEADER);
    off += RECORD_HEADER + r.data.length;
  }
  return out;
}

/** The encoder of a pcap file written as records arrive (host/pcap/rotate.ts). */
export function pcapEncoder(opts: PcapWriteOptions): { header(): Uint8Array; record(r: CaptureRecord): Uint8Array } {
  return { header: () => writePcap([], opts), record: (r) => writePcap([r], opts).subarray(FILE_HEADER) };
}
