// Capture files out, as a stream: classic pcap (pcap.ts has its layout) or pcapng (pcapng.ts), one
// record at a time through one bounded buffer that is written out whenever it fills, whatever the
// capture's size. Writing to a pipe blocks while the reader at the other end is behind, so the
// writer never holds more than the buffer: that block is the backpressure that slows the engine and
// the capture reader behind it down to the pace of whatever consumes the file.
import { closeSync, openSync, writeSync } from 'node:fs';
import { PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO } from './pcap.js';
import { BYTE_ORDER_MAGIC, EPB, IDB, OPT_COMMENT, OPT_IF_DESCRIPTION, OPT_IF_NAME, OPT_IF_TSRESOL, PCAPNG_SHB } from './pcapng.js';
import { MAX_RECORD_BYTES, type CaptureRecord } from './record.js';

/** Bytes gathered before they are written out. */
export const WRITE_CHUNK_BYTES = 1 << 20;

/** A record to write: the interface is 0 unless given (pcapng), the comment optional (pcapng keeps it). */
export type WriteRecord = Omit<CaptureRecord, 'interfaceId'> & { interfaceId?: number };

/** Where a writer's bytes go: a file (PcapWriter.open) or memory (writePcap). */
export interface CaptureSink {
  put(bytes: Uint8Array): void;
  close(): void;
}

const sleep = new Int32Array(new SharedArrayBuffer(4));

/** A file descriptor written with blocking writes ('-' is standard output). */
export function fileSink(file: string): CaptureSink {
  const own = file !== '-';
  const fd = own ? openSync(file, 'w') : 1;
  return {
    put(bytes) {
      for (let o = 0; o < bytes.length; ) {
        try {
          o += writeSync(fd, bytes, o, bytes.length - o);
        } catch (e) {
          // Standard output handed over non-blocking (a pipe): wait as a blocking write would.
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
          Atomics.wait(sleep, 0, 0, 1);
        }
      }
    },
    close() {
      if (own) closeSync(fd);
    },
  };
}

/** Bytes kept in memory, handed over whole by `bytes()`. */
class MemorySink implements CaptureSink {
  private chunks: Uint8Array[] = [];
  put(bytes: Uint8Array): void {
    this.chunks.push(bytes.slice());
  }
  close(): void {}
  bytes(): Uint8Array {
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
  }
}

const utf8 = new TextEncoder();
const pad4 = (n: number) => (n + 3) & ~3;

/** The buffer both writers fill: records are encoded in place, and the buffer goes out when full. */
export abstract class CaptureWriter {
  /** Records written so far. */
  records = 0;
  /** Bytes handed to the sink so far. */
  private sent = 0;
  private buf = new Uint8Array(WRITE_CHUNK_BYTES);
  protected dv = new DataView(this.buf.buffer);
  protected used = 0;
  private closed = false;

  protected constructor(
    private readonly sink: CaptureSink,
    protected readonly le: boolean,
  ) {}

  /** Room for `n` bytes at `this.used`: what is gathered goes out first when they do not fit. */
  protected room(n: number): number {
    if (this.used + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) {
        this.buf = new Uint8Array(n);
        this.dv = new DataView(this.buf.buffer);
      }
    }
    const at = this.used;
    this.used += n;
    this.buf.fill(0, at, this.used);
    return at;
  }

  protected put(bytes: Uint8Array, at: number): void {
    this.buf.set(bytes, at);
  }

  /** Bytes of the file so far, written out or still gathered: its size once closed. */
  get bytes(): number {
    return this.sent + this.used;
  }

  /** Writes out what is gathered. */
  flush(): void {
    if (this.used) this.sink.put(this.buf.subarray(0, this.used));
    this.sent += this.used;
    this.used = 0;
  }

  abstract write(r: WriteRecord): void;

  /** Flushes and closes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    this.sink.close();
  }
}

export interface PcapWriteOptions {
  linktype: number;
  nanosecond?: boolean;
  bigEndian?: boolean;
  snaplen?: number;
}

/** A classic pcap file written as it goes (one link type; comments have no place in it). */
export class PcapWriter extends CaptureWriter {
  private readonly div: bigint;

  /** Creates `file` ('-' is standard output) and writes the file header. */
  static open(file: string, opts: PcapWriteOptions): PcapWriter {
    return new PcapWriter(fileSink(file), opts);
  }

  constructor(sink: CaptureSink, private readonly opts: PcapWriteOptions) {
    super(sink, !opts.bigEndian);
    this.div = opts.nanosecond ? 1n : 1000n;
    const at = this.room(24);
    const v = this.dv;
    v.setUint32(at, opts.nanosecond ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, this.le);
    v.setUint16(at + 4, 2, this.le);
    v.setUint16(at + 6, 4, this.le);
    v.setUint32(at + 16, opts.snaplen ?? MAX_RECORD_BYTES, this.le);
    v.setUint32(at + 20, opts.linktype, this.le);
  }

  write(r: WriteRecord): void {
    if (r.linktype !== this.opts.linktype)
      throw new Error(`pcap holds one link type (${this.opts.linktype}) but a record has ${r.linktype}: write pcapng for mixed link types`);
    const le = this.le;
    const at = this.room(16 + r.data.length);
    const v = this.dv;
    v.setUint32(at, Number(r.timestampNs / 1_000_000_000n), le);
    v.setUint32(at + 4, Number((r.timestampNs % 1_000_000_000n) / this.div), le);
    v.setUint32(at + 8, r.data.length, le);
    v.setUint32(at + 12, Math.max(r.wireLength, r.data.length), le);
    this.put(r.data, at + 16);
    this.records++;
  }
}

export interface PcapngInterface {
  linktype: number;
  snaplen?: number;
  /** Timestamp resolution: 'us' (default, if_tsresol 6) or 'ns' (9). */
  resolution?: 'us' | 'ns';
  /** if_name, if_description and opt_comment of the interface block, when given. */
  name?: string;
  description?: string;
  comment?: string;
}

export interface PcapngWriteOptions {
  bigEndian?: boolean;
  /** The section's comment (opt_comment of the section header block). */
  comment?: string;
}

/** An option to write: its code and its value. */
type BlockOption = [code: number, value: Uint8Array];

/**
 * A pcapng file: a section with the given interfaces, one Enhanced Packet Block per record. More
 * interfaces (addInterface) and sections (section) can follow, as a capture being copied shows them.
 */
export class PcapngWriter extends CaptureWriter {
  private interfaces: PcapngInterface[] = [];

  /** Creates `file` ('-' is standard output) and writes the section and interface blocks. */
  static open(file: string, interfaces: PcapngInterface[], opts: PcapngWriteOptions = {}): PcapngWriter {
    return new PcapngWriter(fileSink(file), interfaces, opts);
  }

  constructor(sink: CaptureSink, interfaces: PcapngInterface[], opts: PcapngWriteOptions = {}) {
    super(sink, !opts.bigEndian);
    this.section(opts.comment);
    for (const itf of interfaces) this.addInterface(itf);
  }

  /** Starts a new section (a section header block with this comment); interfaces are then added anew. */
  section(comment?: string): void {
    const shb = this.block(PCAPNG_SHB, 16, comment ? [[OPT_COMMENT, utf8.encode(comment)]] : []);
    this.dv.setUint32(shb + 8, BYTE_ORDER_MAGIC, this.le);
    this.dv.setUint16(shb + 12, 1, this.le);
    this.dv.setBigInt64(shb + 16, -1n, this.le);
    this.interfaces = [];
  }

  /** Describes one more interface of the current section; returns its id. */
  addInterface(itf: PcapngInterface): number {
    const options: BlockOption[] = [];
    if (itf.comment !== undefined) options.push([OPT_COMMENT, utf8.encode(itf.comment)]);
    if (itf.name !== undefined) options.push([OPT_IF_NAME, utf8.encode(itf.name)]);
    if (itf.description !== undefined) options.push([OPT_IF_DESCRIPTION, utf8.encode(itf.description)]);
    if (itf.resolution === 'ns') options.push([OPT_IF_TSRESOL, Uint8Array.of(9)]);
    const idb = this.block(IDB, 8, options);
    this.dv.setUint16(idb + 8, itf.linktype, this.le);
    this.dv.setUint32(idb + 12, itf.snaplen ?? MAX_RECORD_BYTES, this.le);
    return this.interfaces.push(itf) - 1;
  }

  /** Interfaces described in the current section. */
  get interfaceCount(): number {
    return this.interfaces.length;
  }

  /**
   * Reserves a block of `body` bytes of fixed part, then its options and the end of options when
   * there are any; writes type and both lengths; returns the block's offset in the buffer.
   */
  private block(type: number, body: number, options: readonly BlockOption[]): number {
    const fixed = pad4(body);
    const optionBytes = options.length ? options.reduce((n, [, v]) => n + 4 + pad4(v.length), 0) + 4 : 0;
    const len = 12 + fixed + optionBytes;
    const at = this.room(len);
    this.dv.setUint32(at, type, this.le);
    this.dv.setUint32(at + 4, len, this.le);
    let o = at + 8 + fixed;
    for (const [code, value] of options) {
      this.dv.setUint16(o, code, this.le);
      this.dv.setUint16(o + 2, value.length, this.le);
      this.put(value, o + 4);
      o += 4 + pad4(value.length);
    }
    this.dv.setUint32(at + len - 4, len, this.le);
    return at;
  }

  write(r: WriteRecord): void {
    const id = r.interfaceId ?? 0;
    const itf = this.interfaces[id];
    if (!itf) throw new Error(`record names interface ${id}, but ${this.interfaces.length} were given`);
    if (itf.linktype !== r.linktype) throw new Error(`record has link type ${r.linktype} but interface ${id} is ${itf.linktype}`);
    const units = itf.resolution === 'ns' ? r.timestampNs : r.timestampNs / 1000n;
    const at = this.block(EPB, 20 + r.data.length, r.comment ? [[OPT_COMMENT, utf8.encode(r.comment)]] : []);
    const v = this.dv;
    v.setUint32(at + 8, id, this.le);
    v.setUint32(at + 12, Number(units >> 32n), this.le);
    v.setUint32(at + 16, Number(units & 0xffffffffn), this.le);
    v.setUint32(at + 20, r.data.length, this.le);
    v.setUint32(at + 24, Math.max(r.wireLength, r.data.length), this.le);
    this.put(r.data, at + 28);
    this.records++;
  }
}

/** A classic pcap file of `records` in memory (all must share the file's link type). */
export function writePcap(records: Iterable<WriteRecord>, opts: PcapWriteOptions): Uint8Array {
  const sink = new MemorySink();
  const w = new PcapWriter(sink, opts);
  for (const r of records) w.write(r);
  w.close();
  return sink.bytes();
}

/** A pcapng file in memory: one section, the given interfaces and one Enhanced Packet Block per record. */
export function writePcapng(interfaces: PcapngInterface[], records: Iterable<WriteRecord>, opts: PcapngWriteOptions = {}): Uint8Array {
  const sink = new MemorySink();
  const w = new PcapngWriter(sink, interfaces, opts);
  for (const r of records) w.write(r);
  w.close();
  return sink.bytes();
}

/** How a writer that makes several files (host/pcap/rotate.ts) starts each: one format over that file's sink. */
export type CaptureFormat = (sink: CaptureSink) => CaptureWriter;

/** Classic pcap files with these options. */
export const pcapFormat = (opts: PcapWriteOptions): CaptureFormat => (sink) => new PcapWriter(sink, opts);

/** pcapng files of one section with this one interface. */
export const pcapngFormat = (itf: PcapngInterface, opts: PcapngWriteOptions = {}): CaptureFormat => (sink) => new PcapngWriter(sink, [itf], opts);
