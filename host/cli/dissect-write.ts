// `wirewasm dissect IN -w OUT [EXPRESSION]`, as `tcpdump -r IN -w OUT EXPRESSION`: the frames the
// expression accepts (all without one) copied to a new capture as the input is read, through the
// streaming writers (host/pcap/writer.ts), so memory stays bounded whatever the file's size.
// pcap in gives pcap out (its link type, timestamp resolution and snaplen); pcapng in gives pcapng
// out, section by section: each section's comment, each interface's link type, snaplen, name,
// description and comment, each packet's comment. Timestamps are written in nanoseconds.
import type { RecordFilter } from '../filter/index.js';
import { CaptureFormatError, CaptureReader, PcapngWriter, PcapWriter, type CaptureRecord, type CaptureWriter } from '../pcap/index.js';

export interface WriteSelectedOptions {
  /** Judge the frames as this link type (the file keeps its own). */
  linktype?: number;
  /** Write at most this many frames; the input is read no further. */
  count?: number;
  filter?: RecordFilter;
}

/** Records judged together: one filterBurst call each. */
const BATCH = 256;

/** Copies the selected records of `reader` to `out` ('-' is stdout); returns the frames written and, if the read ended early, why. */
export function writeSelected(reader: CaptureReader, out: string, opts: WriteSelectedOptions): { frames: number; problem?: Error } {
  const count = opts.count ?? Infinity;
  const pcapng = reader.format === 'pcapng';
  let writer: CaptureWriter | undefined;
  let section = 0;
  /** The writer, opened at the first record (a pcapng's section and interfaces are known by then). */
  const open = (): CaptureWriter => {
    if (!writer) {
      if (pcapng) writer = PcapngWriter.open(out, [], { comment: reader.sectionComment });
      else {
        const h = reader.pcapHeader;
        writer = PcapWriter.open(out, { linktype: reader.linktype, nanosecond: h.nanosecond, snaplen: h.snaplen });
      }
      section = reader.sections;
    }
    return writer;
  };
  /** pcapng: the output follows the input's sections and interfaces as far as they were read. */
  const follow = (w: CaptureWriter) => {
    if (!(w instanceof PcapngWriter)) return;
    if (reader.sections !== section) {
      w.section(reader.sectionComment);
      section = reader.sections;
    }
    const itfs = reader.sectionInterfaces;
    for (let i = w.interfaceCount; i < itfs.length; i++) {
      const { linktype, snaplen, name, description, comment } = itfs[i];
      w.addInterface({ linktype, snaplen, resolution: 'ns', name, description, comment });
    }
  };
  const batch: CaptureRecord[] = [];
  let frames = 0;
  const flush = () => {
    const w = open();
    const judged = opts.linktype === undefined ? batch : batch.map((r) => ({ ...r, linktype: opts.linktype! }));
    const picked = opts.filter ? opts.filter.accepted(judged) : null;
    const n = picked ? picked.length : batch.length;
    for (let k = 0; k < n && frames < count; k++, frames++) w.write(batch[picked ? picked[k] : k]);
    batch.length = 0;
  };
  let problem: Error | undefined;
  try {
    for (;;) {
      // The batch's records are views into the reader's buffer: judged and written before it reads on.
      if (batch.length && (batch.length === BATCH || !reader.ready())) flush();
      if (frames >= count) break;
      const before = reader.sections;
      const r = reader.next();
      // A record of a new pcapng section: the batch of the previous one goes out under its own section.
      if (r && reader.sections !== before && batch.length) {
        // The new section's header moved no bytes (it was read with the record), so the batch's views hold.
        flush();
      }
      if (!r) break;
      if (frames + batch.length >= count && !opts.filter) break;
      follow(open());
      batch.push(r);
    }
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    problem = e;
  }
  if (batch.length) flush();
  // A capture without a record still gives a readable (empty) file.
  const w = open();
  follow(w);
  w.close();
  return { frames, ...(problem ? { problem } : {}) };
}
