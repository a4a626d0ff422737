// Capture files in: classic pcap or pcapng, told apart by their first bytes.
import { readFileSync } from 'node:fs';
import { isPcap, readPcap } from './pcap.js';
import { isPcapng, readPcapng } from './pcapng.js';
import { CaptureFormatError, type CaptureRecord } from './record.js';

export { CaptureFormatError, MAX_RECORD_BYTES, type CaptureRecord } from './record.js';
export { isPcap, readPcap, readPcapHeader, writePcap, PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO, type PcapHeader, type PcapWriteOptions } from './pcap.js';
export { isPcapng, readPcapng, writePcapng, type PcapngInterface } from './pcapng.js';

/** Records of a pcap or pcapng capture held in memory. */
export function readCapture(bytes: Uint8Array, onProblem?: (e: CaptureFormatError) => void): Generator<CaptureRecord> {
  if (isPcapng(bytes)) return readPcapng(bytes, onProblem);
  if (isPcap(bytes)) return readPcap(bytes, onProblem);
  const head = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join('');
  throw new CaptureFormatError(0, `not a pcap or pcapng file (starts with ${head || 'nothing'}); give a capture written by tcpdump, tshark or dumpcap`);
}

/** Reads a whole capture file: its records and, if it was cut short, what was wrong. */
export function readCaptureFile(file: string): { records: CaptureRecord[]; problem?: CaptureFormatError } {
  const bytes = readFileSync(file);
  let problem: CaptureFormatError | undefined;
  const records = [...readCapture(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), (e) => (problem = e))];
  return { records, problem };
}
