// The binary framing of a records message: what an engine publishes to NATS, one message per batch
// of records of one kind from one queue. Little-endian throughout.
//
// ```
//  message header (32 bytes, then the engine id and the tag, unpadded)
//   0  u8[4]  magic "WWR1" (0x57 0x57 0x52 0x31): wirewasm records, framing version 1
//   4  u8     kind: 1 value (handler emit), 2 frame (handler keep), 3 plugin (parser plugin record)
//   5  u8     E: length of the engine id, 1..255 (UTF-8)
//   6  u16    queue: the receive queue the records came from (0 when the engine does not say)
//   8  u32    N: records in this message, >= 1
//  12  u16    T: length of the tag (the plugin's name for kind 3; 0 otherwise)
//  14  u16    reserved, 0
//  16  u64    seq: sequence number of record 0; record i is seq + i. One counter per (engine, queue),
//             shared by every kind, starting at 0, so (engine, queue, seq) names one record forever
//  24  u64    time: wall-clock ns (Unix epoch) when the engine handed the first record to the sink
//  32  u8[E]  engine id, then u8[T] tag
//  records, N times, back to back:
//   0  u32    L: length of the record's bytes
//   4  u16    type: kind 2 the frame's link type (1 Ethernet), kind 3 the plugin's record kind, else 0
//   6  u16    reserved, 0
//   8  u8[L]  the bytes: kind 1 a u64 (the emitted number), kind 2 the captured frame, kind 3 the plugin's bytes
// ```
//
// The message's JetStream `Nats-Msg-Id` is `<engine>.<queue>.<seq>` (msgId): a publisher that sends a
// message again after a broker fail-over sends the same id, and the stream stores it once.

export const MAGIC = [0x57, 0x57, 0x52, 0x31] as const;
export const HEADER_BYTES = 32;
export const RECORD_HEADER_BYTES = 8;

export const KINDS = ['value', 'frame', 'plugin'] as const;
export type RecordKind = (typeof KINDS)[number];
const KIND_CODE: Record<RecordKind, number> = { value: 1, frame: 2, plugin: 3 };

export interface DecodedRecord {
  seq: number;
  /** Link type (frames), plugin record kind (plugin records), 0 (values). */
  type: number;
  /** A view into the message: copy it to keep it past the message. */
  bytes: Uint8Array;
}

export interface DecodedBatch {
  engine: string;
  queue: number;
  kind: RecordKind;
  /** The plugin's name for plugin records, '' otherwise. */
  tag: string;
  /** Sequence of the first record. */
  seq: number;
  /** Wall-clock ns when the engine handed the first record to the publisher. */
  timeNs: number;
  /** Records in the batch. */
  count: number;
  /** The records as objects, one each (made on first use): `cursor()` reads them without. */
  records: DecodedRecord[];
  /** A cursor on the batch's records, before the first: `c` (reused) or a new one. */
  cursor(c?: RecordCursor): RecordCursor;
}

/** Why a message is not a records message: the decoder's error, with what was wrong. */
export class FramingError extends Error {
  constructor(message: string) {
    super(`records message: ${message}`);
    this.name = 'FramingError';
  }
}

const utf8 = new TextEncoder();
/** Words read through an Int32Array are in the host's byte order: written back in the same. */
const NATIVE_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Writes `v` (an integer, 0 .. 2^53) as a little-endian u64: two u32 stores, no BigInt. */
function setU64(dv: DataView, at: number, v: number): void {
  dv.setUint32(at, v >>> 0, true);
  dv.setUint32(at + 4, Math.floor(v / 0x100000000), true);
}

/** Little-endian reads straight from the bytes: the decoder needs no view object per message. */
const u16 = (b: Uint8Array, at: number): number => b[at] | (b[at + 1] << 8);
/** A little-endian u32 of the framing, read without a DataView. */
export const readU32 = (b: Uint8Array, at: number): number => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000;
const u64 = (b: Uint8Array, at: number): number => readU32(b, at + 4) * 0x100000000 + readU32(b, at);

/** The JetStream message id of a batch: unique per (engine, queue, first record). */
export const msgId = (engine: string, queue: number, seq: number): string => `${engine}.${queue}.${seq}`;

/** addRecords' plain copy of a run whose offset modulo 8 differs from the message's: grows to the largest run. */
let bounce = new Uint8Array(0);

/**
 * Builds one message in a buffer of a fixed capacity: begin(), then add() records while they fit,
 * then finish() returns the message bytes (a view of the buffer: the builder must not be reused
 * until the message is sent, so the publisher takes a fresh buffer per message).
 */
export class BatchWriter {
  readonly buf: Uint8Array;
  private readonly dv: DataView;
  private pos = 0;
  count = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
    this.dv = new DataView(this.buf.buffer);
  }

  begin(kind: RecordKind, engineId: Uint8Array, tag: Uint8Array, queue: number, seq: number, timeNs: number): void {
    const b = this.buf;
    b.set(MAGIC, 0);
    b[4] = KIND_CODE[kind];
    b[5] = engineId.length;
    this.dv.setUint16(6, queue, true);
    this.dv.setUint32(8, 0, true);
    this.dv.setUint16(12, tag.length, true);
    this.dv.setUint16(14, 0, true);
    setU64(this.dv, 16, seq);
    setU64(this.dv, 24, Math.round(timeNs));
    b.set(engineId, HEADER_BYTES);
    b.set(tag, HEADER_BYTES + engineId.length);
    this.pos = HEADER_BYTES + engineId.length + tag.length;
    this.count = 0;
  }

  /** Room left for one record's bytes. */
  get room(): number {
    return this.buf.length - this.pos - RECORD_HEADER_BYTES;
  }

  /** Bytes left in the buffer (record headers included). */
  get free(): number {
    return this.buf.length - this.pos;
  }

  get bytes(): number {
    return this.pos;
  }

  /**
   * Appends `count` records already in this framing, at src[from, from + bytes). From a shared
   * memory (the engine's stage) V8 copies 8-byte words only when source and destination sit at the
   * same offset modulo 8, and byte by byte otherwise (about 6x slower): a run at another offset goes
   * through `bounce` (plain memory, at the source's offset modulo 8), whose copy out is a plain one.
   */
  addRecords(src: Uint8Array, from: number, bytes: number, count: number): void {
    const skew = (src.byteOffset + from - this.buf.byteOffset - this.pos) & 7;
    if (skew === 0 || !(src.buffer instanceof SharedArrayBuffer)) this.buf.set(src.subarray(from, from + bytes), this.pos);
    else {
      if (bounce.length < bytes + 8) bounce = new Uint8Array(Math.max(bytes + 8, 2 * bounce.length));
      const at = (src.byteOffset + from) & 7;
      bounce.set(src.subarray(from, from + bytes), at);
      this.buf.set(bounce.subarray(at, at + bytes), this.pos);
    }
    this.pos += bytes;
    this.count += count;
  }

  /**
   * Appends a record whose bytes lie in `src` [from, from + len): the one copy out of the shared
   * memory. With `words` (an Int32Array over src's whole buffer) a source on a 4-byte boundary is
   * copied a word at a time and needs no view of `src`, which set() would (an object per record).
   */
  addFrom(src: Uint8Array, from: number, len: number, type: number, words?: Int32Array): void {
    this.header(len, type);
    const at = this.pos;
    if (words && (from & 3) === 0) {
      const dv = this.dv;
      const w = from >> 2;
      const k = len >> 2;
      for (let i = 0; i < k; i++) dv.setInt32(at + 4 * i, words[w + i], NATIVE_LE);
      for (let i = k << 2; i < len; i++) this.buf[at + i] = src[from + i];
    } else this.buf.set(src.subarray(from, from + len), at);
    this.pos = at + len;
  }

  /** Appends a u64 value record. */
  addValue(v: number): void {
    this.header(8, 0);
    setU64(this.dv, this.pos, v);
    this.pos += 8;
  }

  private header(len: number, type: number): void {
    this.dv.setUint32(this.pos, len, true);
    this.dv.setUint16(this.pos + 4, type, true);
    this.dv.setUint16(this.pos + 6, 0, true);
    this.pos += RECORD_HEADER_BYTES;
    this.count++;
  }

  finish(): Uint8Array {
    this.dv.setUint32(8, this.count, true);
    return this.buf.subarray(0, this.pos);
  }
}

export const encodeEngineId = (id: string): Uint8Array => {
  const b = utf8.encode(id);
  if (b.length < 1 || b.length > 255) throw new RangeError(`engine id "${id}": 1 to 255 bytes of UTF-8, got ${b.length}`);
  return b;
};

/** True when `data` starts with the records magic (a cheap test before decode). */
export const isRecordsMessage = (data: Uint8Array): boolean =>
  data.length >= HEADER_BYTES && data[0] === MAGIC[0] && data[1] === MAGIC[1] && data[2] === MAGIC[2] && data[3] === MAGIC[3];

/** The last engine id decoded, bytes and string: a consumer mostly reads one engine, whose id is not decoded again. */
let lastIdBytes = new Uint8Array(0);
let lastId = '';

function engineIdAt(data: Uint8Array, e: number): string {
  let same = e === lastIdBytes.length;
  for (let i = 0; same && i < e; i++) same = data[HEADER_BYTES + i] === lastIdBytes[i];
  if (!same) {
    lastId = fromUtf8.decode(data.subarray(HEADER_BYTES, HEADER_BYTES + e));
    lastIdBytes = data.slice(HEADER_BYTES, HEADER_BYTES + e);
  }
  return lastId;
}

/**
 * One record of a batch at a time, in one object: next() moves to the following record and says
 * whether there is one; then seq, type, and the bytes at data[offset, offset + length) describe it.
 * Reading a batch through a cursor allocates nothing per record; a cursor can be reused for the
 * next batch (batch.cursor(c)).
 */
export class RecordCursor {
  /** The message (a plain Uint8Array over it): the record's bytes are data[offset, offset + length). */
  data: Uint8Array = new Uint8Array(0);
  seq = 0;
  type = 0;
  offset = 0;
  length = 0;
  /** Where the next record's header starts, and records left after the current one. */
  private at = 0;
  private left = 0;

  /** Puts the cursor before the first of `count` records whose headers start at `at`. */
  reset(data: Uint8Array, at: number, seq: number, count: number): this {
    this.data = data;
    this.at = at;
    this.seq = seq - 1;
    this.left = count;
    this.length = 0;
    return this;
  }

  next(): boolean {
    if (this.left === 0) return false;
    this.left--;
    const d = this.data;
    this.length = readU32(d, this.at);
    this.type = u16(d, this.at + 4);
    this.offset = this.at + RECORD_HEADER_BYTES;
    this.at = this.offset + this.length;
    this.seq++;
    return true;
  }

  /** The number a value record carries (its first 8 bytes as a u64). */
  value(): number {
    return u64(this.data, this.offset);
  }

  /** The record's bytes: a view into the message (an object: copy it to keep it past the message). */
  bytes(): Uint8Array {
    return this.data.subarray(this.offset, this.offset + this.length);
  }
}

/** A decoded records message: the header's fields, the records read from the message on demand. */
class Batch implements DecodedBatch {
  private list?: DecodedRecord[];

  constructor(
    readonly data: Uint8Array,
    /** Where record 0's header starts. */
    private readonly first: number,
    readonly engine: string,
    readonly queue: number,
    readonly kind: RecordKind,
    readonly tag: string,
    readonly seq: number,
    readonly timeNs: number,
    readonly count: number,
  ) {}

  cursor(c = new RecordCursor()): RecordCursor {
    return c.reset(this.data, this.first, this.seq, this.count);
  }

  get records(): DecodedRecord[] {
    if (!this.list) {
      const list: DecodedRecord[] = new Array(this.count);
      const c = this.cursor();
      for (let i = 0; c.next(); i++) list[i] = { seq: c.seq, type: c.type, bytes: c.bytes() };
      this.list = list;
    }
    return this.list;
  }

  /** The same batch without its first `skip` records. */
  after(skip: number): DecodedBatch {
    const c = this.cursor();
    for (let i = 0; i < skip; i++) c.next();
    const at = skip === 0 ? this.first : c.offset + c.length;
    return new Batch(this.data, at, this.engine, this.queue, this.kind, this.tag, this.seq + skip, this.timeNs, this.count - skip);
  }
}

/** `batch` without its first `skip` records (0 <= skip <= count). */
export function batchAfter(batch: DecodedBatch, skip: number): DecodedBatch {
  if (batch instanceof Batch) return batch.after(skip);
  return { ...batch, seq: batch.seq + skip, count: batch.count - skip, records: batch.records.slice(skip) };
}

/**
 * Decodes one records message. Throws FramingError naming the first problem: not our magic
 * (a foreign message), an unknown kind, or lengths that run past the end (a malformed one).
 * Every record's length is checked here; the records themselves are read from the message when
 * asked for (`records`, or `cursor()` without an object per record), their bytes views into it.
 */
export function decodeBatch(message: Uint8Array): DecodedBatch {
  // The records' views are cut from a plain Uint8Array over the message: a Buffer's (what the NATS
  // client hands out) subarray() is a JS method that makes a Buffer, about twice the cost per record.
  const data = Object.getPrototypeOf(message) === Uint8Array.prototype ? message : new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
  if (!isRecordsMessage(data)) throw new FramingError(`not a wirewasm records message (no "WWR1" magic in the first 4 of ${data.length} bytes)`);
  const kind = KINDS[data[4] - 1];
  if (!kind) throw new FramingError(`unknown kind ${data[4]} (1 value, 2 frame, 3 plugin)`);
  const e = data[5];
  const queue = u16(data, 6);
  const n = readU32(data, 8);
  const t = u16(data, 12);
  const seq = u64(data, 16);
  const timeNs = u64(data, 24);
  if (e === 0) throw new FramingError('empty engine id');
  if (n === 0) throw new FramingError('no records');
  const first = HEADER_BYTES + e + t;
  if (first > data.length) throw new FramingError(`engine id and tag (${e} + ${t} bytes) run past the end (${data.length} bytes)`);
  let engine: string;
  let tag: string;
  try {
    engine = engineIdAt(data, e);
    tag = t === 0 ? '' : fromUtf8.decode(data.subarray(HEADER_BYTES + e, first));
  } catch {
    throw new FramingError('engine id or tag is not UTF-8');
  }
  let pos = first;
  for (let i = 0; i < n; i++) {
    if (pos + RECORD_HEADER_BYTES > data.length) throw new FramingError(`record ${i} of ${n}: header past the end (${data.length} bytes)`);
    const len = readU32(data, pos);
    pos += RECORD_HEADER_BYTES;
    if (pos + len > data.length) throw new FramingError(`record ${i} of ${n}: ${len} bytes run past the end (${data.length} bytes)`);
    pos += len;
  }
  if (pos !== data.length) throw new FramingError(`${data.length - pos} bytes after the last of ${n} records`);
  return new Batch(data, first, engine, queue, kind, tag, seq, timeNs, n);
}

/** The number a value record carries. */
export function recordValue(r: DecodedRecord): number {
  return u64(r.bytes, 0);
}
