// A pcap file (Ethernet, ns timestamps 1 µs apart) holding `frames`, for tests that replay it.
import { writeFileSync } from 'node:fs';
import { writePcap } from '../../host/pcap/index.js';

export function writeFramesPcap(file: string, frames: Uint8Array[]): string {
  writeFileSync(file, writePcap(frames.map((data, j) => ({ linktype: 1, timestampNs: BigInt(j) * 1000n, data, wireLength: data.length })), { linktype: 1, nanosecond: true }));
  return file;
}
