// Classic libpcap files (https://www.tcpdump.org/manpages/pcap-savefile.5.html, IETF draft
// draft-ietf-opsawg-pcap): microsecond (magic a1b2c3d4) or nanosecond (a1b23c4d) timestamps,
// written in either byte order (the magic, read back, tells which).
//
// File header (24 bytes)                         Record header (16 bytes), then caplen bytes
// | 0 magic | 4 major u16 | 6 minor u16 |        | 0 ts seconds | 4 ts micro/nanoseconds |
// | 8 thiszone | 12 sigfigs | 16 snaplen |       | 8 captured length | 12 original length  |
// | 20 linktype (low 16 bits; FCS info above) |

import { CaptureFormatError } from './record.js';

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
const FILE_HEADER = 24;

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
