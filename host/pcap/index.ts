// Capture files in: classic pcap or pcapng, told apart by their first bytes, read as a stream
// (reader.ts) from a file, a pipe or stdin, or from bytes already in memory.
import { CaptureReader, recordsOf } from './reader.js';
import { CaptureFormatError, type CaptureRecord } from './record.js';

export { CaptureFormatError, MAX_RECORD_BYTES, type CaptureRecord } from './record.js';
export { isPcap, readPcapHeader, PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO, type PcapHeader } from './pcap.js';
export { isPcapng, type Interface as CaptureInterface } from './pcapng.js';
export { PcapWriter, PcapngWriter, writePcap, writePcapng, WRITE_CHUNK_BYTES, type CaptureSink, type PcapngInterface, type PcapngWriteOptions, type PcapWriteOptions, type WriteRecord, pcapFormat, pcapngFormat, type CaptureFormat, CaptureWriter } from './writer.js';
export { CaptureReader, CaptureReadError, CHUNK_BYTES } from './reader.js';
export { RotatingWriter, rotationFileName, type RotationOptions } from './rotate.js';
export { linktypeName, LINKTYPES_PARSED } from './linktypes.js';

/**
 * Records of a pcap or pcapng capture held in memory, as views into `bytes`. A capture cut short
 * ends the iteration and calls `onProblem`; a corrupt record throws.
 */
export function readCapture(bytes: Uint8Array, onProblem?: (e: CaptureFormatError) => void): Generator<CaptureRecord> {
  return recordsOf(CaptureReader.of(bytes), onProblem);
}

/**
 * Every record of `reader` through `take` (the reader reuses its buffer: `take` copies what it
 * keeps), and the damage that ended the read if any: the records before it are all there. Closes
 * the reader.
 */
export function takeAllRecords<T>(reader: CaptureReader, take: (r: CaptureRecord) => T): { records: T[]; problem?: CaptureFormatError } {
  const records: T[] = [];
  try {
    for (let r = reader.next(); r; r = reader.next()) records.push(take(r));
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    return { records, problem: e };
  } finally {
    reader.close();
  }
  return { records };
}

/**
 * Every record of a capture file ('-' is stdin), copied out, and the damage that ended the read if
 * any: the records before it are all there.
 */
export function readCaptureFile(file: string): { records: CaptureRecord[]; problem?: CaptureFormatError } {
  return takeAllRecords(CaptureReader.open(file), (r) => ({ ...r, data: r.data.slice() }));
}
