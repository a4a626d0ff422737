// Which ITCH messages each frame of a feed capture carries, read from the frame's own bytes
// (Ethernet | IPv4 | UDP | MoldUDP64 header: session 10, sequence u64, count u16), so a test can
// tell which frames a feed decoded by the sequence numbers of the messages it got.
import { readCaptureFile } from '../../host/pcap/index.js';
import type { MessageView } from '../../host/feed/messages.js';

/** Per frame of `file`: the sequence numbers of its messages (none for heartbeats, ends of session, non-UDP). */
export function frameMessageSeqs(file: string): bigint[][] {
  return readCaptureFile(file).records.map((r) => {
    const d = r.data;
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    if (d.length < 14 + 20 + 8 + 20 || v.getUint16(12) !== 0x0800 || d[23] !== 17) return [];
    const mold = 14 + (d[14] & 0x0f) * 4 + 8;
    const seq = v.getBigUint64(mold + 10);
    const count = v.getUint16(mold + 18);
    if (count === 0 || count === 0xffff) return [];
    return Array.from({ length: count }, (_, i) => seq + BigInt(i));
  });
}

/** Appends the sequence number of each message of a decoded batch. */
export function feedMessageSeqs(v: MessageView, out: bigint[]): void {
  while (v.next()) out.push(v.sequence);
}

/** The indexes of the frames of `file` that end a MoldUDP64 session (count 0xffff; feed-sim sends several). */
export function endOfSessionFrames(file: string): Set<number> {
  const out = new Set<number>();
  readCaptureFile(file).records.forEach((r, i) => {
    const d = r.data;
    if (d.length < 14 + 20 + 8 + 20 || d[12] !== 0x08 || d[13] !== 0 || d[23] !== 17) return;
    const count = 14 + (d[14] & 0x0f) * 4 + 8 + 18;
    if (d[count] === 0xff && d[count + 1] === 0xff) out.add(i);
  });
  return out;
}
