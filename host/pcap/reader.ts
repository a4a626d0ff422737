// A capture read as a stream: classic pcap or pcapng from a file, a pipe or stdin ('-'), in chunks
// through one bounded buffer, whatever the file's size. Records come out one at a time as views
// into that buffer; a view is valid until the next call that may read (next()), which is what lets
// the buffer stay small. `ready()` says whether the next record is already buffered, so a consumer
// can hand on what it holds ahead of the reader blocking on more input (output streams, chunk by chunk).
//
// Damage ends the read, like tcpdump: everything before it was delivered, and the error names the
// record (1-based, counting packets) and its byte offset in the file.
import { closeSync, openSync, readSync } from 'node:fs';
import { isPcap, readPcapHeader } from './pcap.js';
import { isPcapng, PCAPNG_SHB, readComment, readInterface, type Interface } from './pcapng.js';
import { CaptureFormatError, MAX_RECORD_BYTES, type CaptureRecord } from './record.js';

/** Bytes asked of the file per read. */
export const CHUNK_BYTES = 1 << 20;
/** The largest pcapng block read whole (libpcap's limit); larger non-packet blocks are skipped by length. */
export const MAX_BLOCK_BYTES = 16 << 20;

const PCAP_FILE_HEADER = 24;
const PCAP_RECORD_HEADER = 16;
const IDB = 1;
const PB = 2;
const SPB = 3;
const EPB = 6;

/** Where bytes come from: a file descriptor read chunk by chunk, or bytes already in memory. */
type Source = { fd: number; own: boolean } | { bytes: Uint8Array };

/** A read error of the capture; `truncated` when the input ended inside a header or a record. */
export class CaptureReadError extends CaptureFormatError {
  constructor(
    offset: number,
    readonly record: number,
    readonly truncated: boolean,
    what: string,
  ) {
    super(offset, `record ${record}: ${what}`);
  }
}

const sleep = new Int32Array(new SharedArrayBuffer(4));

export class CaptureReader {
  /** Records delivered so far. */
  records = 0;
  readonly format: 'pcap' | 'pcapng';
  /** Link type of a classic pcap file (pcapng: of its first interface, once read). */
  linktype = -1;
  /** pcapng: the comment of the section being read (its header block's opt_comment), if any. */
  sectionComment?: string;
  /** pcapng: section header blocks read so far (each starts a new set of interfaces). */
  sections = 0;
  private buf: Uint8Array;
  private dv: DataView;
  private start = 0;
  private end = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private eof = false;
  private le = true;
  private unit = 1000n;
  /** pcap: records longer are cut to it, as libpcap does (the header's snaplen; 0 or too large means the maximum). */
  private snaplen = MAX_RECORD_BYTES;
  /** pcap 2.0 to 2.2: writers of those versions could swap caplen and len, and libpcap swaps them back. */
  private swapped = false;
  private interfaces: Interface[] = [];
  private readonly src: Source;

  /** Opens `file` ('-' is stdin) and reads its header. */
  static open(file: string, chunkBytes = CHUNK_BYTES): CaptureReader {
    const fd = file === '-' ? 0 : openSync(file, 'r');
    try {
      return new CaptureReader({ fd, own: file !== '-' }, chunkBytes);
    } catch (e) {
      if (file !== '-') closeSync(fd);
      throw e;
    }
  }

  /** A reader over a capture already in memory (records are views into `bytes`). */
  static of(bytes: Uint8Array): CaptureReader {
    return new CaptureReader({ bytes }, 0);
  }

  private constructor(src: Source, chunkBytes: number) {
    this.src = src;
    if ('bytes' in src) {
      this.buf = src.bytes;
      this.end = src.bytes.length;
      this.eof = true;
    } else this.buf = new Uint8Array(Math.max(chunkBytes, 65536));
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.fill(4);
    const head = this.buf.subarray(this.start, this.end);
    if (isPcapng(head)) {
      this.format = 'pcapng';
      return;
    }
    if (!isPcap(head)) {
      const hex = [...head.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join('');
      throw new CaptureFormatError(0, `not a pcap or pcapng file (starts with ${hex || 'nothing'}); give a capture written by tcpdump, tshark or dumpcap`);
    }
    this.format = 'pcap';
    if (!this.fill(PCAP_FILE_HEADER)) throw new CaptureFormatError(0, `pcap file header needs ${PCAP_FILE_HEADER} bytes, the file has ${this.end}`);
    const h = readPcapHeader(this.buf.subarray(0, PCAP_FILE_HEADER));
    this.le = !h.bigEndian;
    this.unit = h.nanosecond ? 1n : 1000n;
    this.linktype = h.linktype;
    if (h.snaplen > 0 && h.snaplen < MAX_RECORD_BYTES) this.snaplen = h.snaplen;
    this.swapped = h.versionMajor < 2 || (h.versionMajor === 2 && h.versionMinor < 3);
    this.start = PCAP_FILE_HEADER;
  }

  /** pcapng: the interfaces of the section being read, as far as their description blocks were read. */
  get sectionInterfaces(): readonly Interface[] {
    return this.interfaces;
  }

  /** pcap: the file header's timestamp resolution and snapshot length (the largest record it holds). */
  get pcapHeader(): { nanosecond: boolean; snaplen: number } {
    return { nanosecond: this.unit === 1n, snaplen: this.snaplen };
  }

  /** True when the next record (or the end) is known without reading more input. */
  ready(): boolean {
    const have = this.end - this.start;
    if (this.eof) return true;
    if (this.format === 'pcap') return have >= PCAP_RECORD_HEADER && have >= PCAP_RECORD_HEADER + this.pcapLengths(this.start)[0];
    return have >= 8 && have >= this.dv.getUint32(this.start + 4, this.le);
  }

  /** File offset of the next byte to parse. */
  get offset(): number {
    return this.base + this.start;
  }

  /** The next record, or undefined at the end of the input; throws CaptureReadError on damage. */
  next(): CaptureRecord | undefined {
    return this.format === 'pcap' ? this.nextPcap() : this.nextPcapng();
  }

  close(): void {
    if ('fd' in this.src && this.src.own) closeSync(this.src.fd);
  }

  *[Symbol.iterator](): Generator<CaptureRecord> {
    for (let r = this.next(); r; r = this.next()) yield r;
  }

  private damage(truncated: boolean, what: string, at = this.offset): CaptureReadError {
    return new CaptureReadError(at, this.records + 1, truncated, what);
  }

  /** Makes `n` bytes from `start` present; false when the input ends first. */
  private fill(n: number): boolean {
    if (this.end - this.start >= n) return true;
    if (this.eof || !('fd' in this.src)) return false;
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    if (n > this.buf.length) {
      const grown = new Uint8Array(Math.max(n, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.end));
      this.buf = grown;
      this.dv = new DataView(grown.buffer);
    }
    while (this.end < n) {
      let got: number;
      try {
        got = readSync(this.src.fd, this.buf, this.end, this.buf.length - this.end, null);
      } catch (e) {
        // stdin handed over non-blocking: wait for data as a blocking read would.
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(sleep, 0, 0, 1);
        continue;
      }
      if (got === 0) {
        this.eof = true;
        return false;
      }
      this.end += got;
    }
    return true;
  }

  private nextPcap(): CaptureRecord | undefined {
    if (!this.fill(PCAP_RECORD_HEADER)) {
      const have = this.end - this.start;
      if (have === 0) return undefined;
      throw this.damage(true, `the file ends inside a record header (${have} of ${PCAP_RECORD_HEADER} bytes): the capture was cut short`);
    }
    const le = this.le;
    const [caplen] = this.pcapLengths(this.start);
    if (caplen > MAX_RECORD_BYTES)
      throw this.damage(false, `the record claims ${caplen} captured bytes, more than the ${MAX_RECORD_BYTES} any pcap writer produces: the file is corrupt`);
    if (!this.fill(PCAP_RECORD_HEADER + caplen))
      throw this.damage(true, `the file ends inside a packet (${this.end - this.start - PCAP_RECORD_HEADER} of ${caplen} bytes): the capture was cut short`);
    // fill may have moved the bytes: read everything afresh.
    const at = this.start;
    const d = this.dv;
    const ts = BigInt(d.getUint32(at, le)) * 1_000_000_000n + BigInt(d.getUint32(at + 4, le)) * this.unit;
    const [, wire] = this.pcapLengths(at);
    // Longer than the file's snaplen: the first snaplen bytes are the packet, the rest is passed over.
    const kept = Math.min(caplen, this.snaplen);
    const data = this.buf.subarray(at + PCAP_RECORD_HEADER, at + PCAP_RECORD_HEADER + kept);
    this.start = at + PCAP_RECORD_HEADER + caplen;
    this.records++;
    return { linktype: this.linktype, timestampNs: ts, data, wireLength: Math.max(wire, kept), interfaceId: 0 };
  }

  /** Captured and original length of the pcap record header at `at`, swapped back where libpcap does. */
  private pcapLengths(at: number): [caplen: number, wire: number] {
    const caplen = this.dv.getUint32(at + 8, this.le);
    const wire = this.dv.getUint32(at + 12, this.le);
    return this.swapped && caplen > wire ? [wire, caplen] : [caplen, wire];
  }

  private nextPcapng(): CaptureRecord | undefined {
    for (;;) {
      if (!this.fill(12)) {
        const have = this.end - this.start;
        if (have === 0) return undefined;
        throw this.damage(true, `the file ends inside a block header (${have} of 12 bytes): the capture was cut short`);
      }
      const at = this.start;
      const first = this.offset === 0;
      let type = this.dv.getUint32(at, this.le);
      if (type === PCAPNG_SHB || this.dv.getUint32(at, true) === PCAPNG_SHB) {
        type = PCAPNG_SHB;
        const magic = this.dv.getUint32(at + 8, true);
        if (magic === 0x1a2b3c4d) this.le = true;
        else if (magic === 0x4d3c2b1a) this.le = false;
        else throw this.damage(false, `the section header has byte-order magic 0x${magic.toString(16)}, not 0x1a2b3c4d: ${first ? 'not a pcapng file' : 'the file is corrupt'}`, this.offset + 8);
        this.interfaces = [];
        this.sections++;
      } else if (first) throw new CaptureFormatError(0, 'a pcapng file starts with a section header block (0x0a0d0d0a)');
      const len = this.dv.getUint32(at + 4, this.le);
      if (len < 12 || len % 4 !== 0) throw this.damage(false, `a block of type ${type} has length ${len}: not a multiple of 4 of at least 12; the file is corrupt`);
      const packet = type === EPB || type === PB || type === SPB;
      if (len > MAX_BLOCK_BYTES && (packet || type === PCAPNG_SHB || type === IDB))
        throw this.damage(false, `a block of type ${type} claims ${len} bytes, more than the ${MAX_BLOCK_BYTES} any pcapng writer produces: the file is corrupt`);
      if (len > MAX_BLOCK_BYTES) {
        this.skip(len);
        continue;
      }
      if (!this.fill(len)) throw this.damage(true, `the file ends inside a block of ${len} bytes (${this.end - this.start} present): the capture was cut short`);
      const o = this.start;
      const v = this.dv;
      const le = this.le;
      const body = o + 8;
      const bodyEnd = o + len - 4;
      let rec: CaptureRecord | undefined;
      if (type === PCAPNG_SHB) this.sectionComment = readComment(this.buf, v, body + 16, bodyEnd, le);
      else if (type === IDB) {
        if (bodyEnd - body < 8) throw this.damage(false, 'an interface description block is shorter than its fixed part: the file is corrupt');
        this.interfaces.push(readInterface(this.buf, v, body, bodyEnd, le));
        if (this.linktype < 0) this.linktype = this.interfaces[0].linktype;
      } else if (type === EPB || type === PB) {
        if (bodyEnd - body < 20) throw this.damage(false, 'a packet block is shorter than its fixed part: the file is corrupt');
        const ifid = type === EPB ? v.getUint32(body, le) : v.getUint16(body, le);
        const itf = this.interfaces[ifid];
        if (!itf) throw this.damage(false, `the packet names interface ${ifid}, but the section has ${this.interfaces.length} interface(s): the file is corrupt`);
        const units = (BigInt(v.getUint32(body + 4, le)) << 32n) | BigInt(v.getUint32(body + 8, le));
        const caplen = v.getUint32(body + 12, le);
        const wire = v.getUint32(body + 16, le);
        if (caplen > MAX_RECORD_BYTES)
          throw this.damage(false, `the packet claims ${caplen} captured bytes, more than the ${MAX_RECORD_BYTES} any pcapng writer produces: the file is corrupt`);
        if (itf.snaplen && caplen > itf.snaplen)
          throw this.damage(false, `the packet has ${caplen} captured bytes, more than the snaplen of ${itf.snaplen} of interface ${ifid}: the file is corrupt`);
        if (body + 20 + caplen > bodyEnd)
          throw this.damage(false, `the packet claims ${caplen} captured bytes but its block holds ${bodyEnd - body - 20}: the file is corrupt`);
        rec = { linktype: itf.linktype, timestampNs: itf.toNs(units) + itf.offsetNs, data: this.buf.subarray(body + 20, body + 20 + caplen), wireLength: Math.max(wire, caplen), interfaceId: ifid };
        const options = body + 20 + ((caplen + 3) & ~3);
        if (type === EPB && options < bodyEnd) {
          const comment = readComment(this.buf, v, options, bodyEnd, le);
          if (comment !== undefined) rec.comment = comment;
        }
      } else if (type === SPB) {
        const itf = this.interfaces[0];
        if (!itf) throw this.damage(false, 'a simple packet block comes before any interface description block: the file is corrupt');
        const wire = v.getUint32(body, le);
        const caplen = Math.min(wire, itf.snaplen || wire, bodyEnd - body - 4);
        rec = { linktype: itf.linktype, timestampNs: 0n, data: this.buf.subarray(body + 4, body + 4 + caplen), wireLength: Math.max(wire, caplen), interfaceId: 0 };
      }
      this.start = o + len;
      if (rec) {
        this.records++;
        return rec;
      }
    }
  }

  /** Passes over `len` bytes without holding them: a large block no packet is in. */
  private skip(len: number): void {
    let left = len;
    while (left > 0) {
      if (!this.fill(1)) throw this.damage(true, `the file ends inside a block of ${len} bytes: the capture was cut short`);
      const k = Math.min(left, this.end - this.start);
      this.start += k;
      left -= k;
    }
  }
}

/** The reader's answer for readCapture/readPcap/readPcapng: every record, cut short reported, corruption thrown. */
export function* recordsOf(reader: CaptureReader, onProblem?: (e: CaptureFormatError) => void): Generator<CaptureRecord> {
  for (;;) {
    let r: CaptureRecord | undefined;
    try {
      r = reader.next();
    } catch (e) {
      if (e instanceof CaptureReadError && e.truncated) {
        onProblem?.(e);
        return;
      }
      throw e;
    }
    if (!r) return;
    yield r;
  }
}
