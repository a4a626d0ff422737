/**
 * ITCH 5.0 on the host side: the message table (names, sizes, fields: docs/feed.md),
 * the encoder the simulator uses, the reader of the decoded records the `itch` and `soupbintcp-itch`
 * plugins emit (layout in feed/itch/itch50.ts), the plugins' counter ids, and the stream digest
 * that tests compare between the simulator and the feed client.
 */
import { createHash, type Hash } from 'node:crypto';

export type FieldKind = 'int' | 'alpha' | 'price4' | 'price8';
export interface FieldSpec {
  name: string;
  size: 1 | 2 | 4 | 8;
  kind: FieldKind;
}
export interface MessageSpec {
  type: string;
  name: string;
  /** Total size on the wire, the 11-byte header included. */
  size: number;
  fields: FieldSpec[];
}

const a = (name: string, size: 1 | 2 | 4 | 8): FieldSpec => ({ name, size, kind: 'alpha' });
const u = (name: string, size: 1 | 2 | 4 | 8): FieldSpec => ({ name, size, kind: 'int' });
const p4 = (name: string): FieldSpec => ({ name, size: 4, kind: 'price4' });
const p8 = (name: string): FieldSpec => ({ name, size: 8, kind: 'price8' });

/** Every ITCH 5.0 message type; fields follow the 11-byte header in wire order. */
export const ITCH_MESSAGES: readonly MessageSpec[] = [
  { type: 'S', name: 'system_event', size: 12, fields: [a('event_code', 1)] },
  {
    type: 'R', name: 'stock_directory', size: 39,
    fields: [a('stock', 8), a('market_category', 1), a('financial_status', 1), u('round_lot_size', 4), a('round_lots_only', 1), a('issue_classification', 1), a('issue_sub_type', 2), a('authenticity', 1), a('short_sale_threshold', 1), a('ipo_flag', 1), a('luld_tier', 1), a('etp_flag', 1), u('etp_leverage_factor', 4), a('inverse_indicator', 1)],
  },
  { type: 'H', name: 'stock_trading_action', size: 25, fields: [a('stock', 8), a('trading_state', 1), a('reserved', 1), a('reason', 4)] },
  { type: 'Y', name: 'reg_sho_restriction', size: 20, fields: [a('stock', 8), a('reg_sho_action', 1)] },
  { type: 'L', name: 'market_participant_position', size: 26, fields: [a('mpid', 4), a('stock', 8), a('primary_market_maker', 1), a('market_maker_mode', 1), a('participant_state', 1)] },
  { type: 'V', name: 'mwcb_decline_level', size: 35, fields: [p8('level1'), p8('level2'), p8('level3')] },
  { type: 'W', name: 'mwcb_status', size: 12, fields: [a('breached_level', 1)] },
  { type: 'K', name: 'ipo_quoting_period_update', size: 28, fields: [a('stock', 8), u('release_time', 4), a('release_qualifier', 1), p4('ipo_price')] },
  { type: 'J', name: 'luld_auction_collar', size: 35, fields: [a('stock', 8), p4('reference_price'), p4('upper_collar'), p4('lower_collar'), u('extension', 4)] },
  { type: 'h', name: 'operational_halt', size: 21, fields: [a('stock', 8), a('market_code', 1), a('halt_action', 1)] },
  { type: 'A', name: 'add_order', size: 36, fields: [u('order_ref', 8), a('side', 1), u('shares', 4), a('stock', 8), p4('price')] },
  { type: 'F', name: 'add_order_mpid', size: 40, fields: [u('order_ref', 8), a('side', 1), u('shares', 4), a('stock', 8), p4('price'), a('attribution', 4)] },
  { type: 'E', name: 'order_executed', size: 31, fields: [u('order_ref', 8), u('executed_shares', 4), u('match_number', 8)] },
  { type: 'C', name: 'order_executed_with_price', size: 36, fields: [u('order_ref', 8), u('executed_shares', 4), u('match_number', 8), a('printable', 1), p4('execution_price')] },
  { type: 'X', name: 'order_cancel', size: 23, fields: [u('order_ref', 8), u('cancelled_shares', 4)] },
  { type: 'D', name: 'order_delete', size: 19, fields: [u('order_ref', 8)] },
  { type: 'U', name: 'order_replace', size: 35, fields: [u('original_ref', 8), u('new_ref', 8), u('shares', 4), p4('price')] },
  { type: 'P', name: 'trade', size: 44, fields: [u('order_ref', 8), a('side', 1), u('shares', 4), a('stock', 8), p4('price'), u('match_number', 8)] },
  { type: 'Q', name: 'cross_trade', size: 40, fields: [u('shares', 8), a('stock', 8), p4('cross_price'), u('match_number', 8), a('cross_type', 1)] },
  { type: 'B', name: 'broken_trade', size: 19, fields: [u('match_number', 8)] },
  {
    type: 'I', name: 'noii', size: 50,
    fields: [u('paired_shares', 8), u('imbalance_shares', 8), a('imbalance_direction', 1), a('stock', 8), p4('far_price'), p4('near_price'), p4('current_reference_price'), a('cross_type', 1), a('price_variation_indicator', 1)],
  },
  { type: 'N', name: 'rpii', size: 20, fields: [a('stock', 8), a('interest_flag', 1)] },
  {
    type: 'O', name: 'dlcr_price_discovery', size: 48,
    fields: [a('stock', 8), a('open_eligibility', 1), p4('min_allowable_price'), p4('max_allowable_price'), p4('near_execution_price'), u('near_execution_time', 8), p4('lower_price_collar'), p4('upper_price_collar')],
  },
];

export const ITCH_BY_TYPE: ReadonlyMap<string, MessageSpec> = new Map(ITCH_MESSAGES.map((m) => [m.type, m]));
export const ITCH_HEADER_BYTES = 11;

/** A field value: a number or bigint for integers and prices (raw, implied decimals), a string for alpha. */
export type FieldValue = number | bigint | string;

export interface ItchMessage {
  type: string;
  locate: number;
  tracking: number;
  /** Nanoseconds since midnight. */
  timestamp: bigint;
  /** In the order of the type's fields. */
  values: FieldValue[];
}

/** Writes one message at `off` of `buf` (big-endian); returns its size. */
export function encodeMessage(buf: Uint8Array, off: number, m: ItchMessage, view?: DataView): number {
  const spec = ITCH_BY_TYPE.get(m.type);
  if (!spec) throw new Error(`ITCH: unknown message type ${JSON.stringify(m.type)}`);
  const v = view ?? new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  v.setUint8(off, m.type.charCodeAt(0));
  v.setUint16(off + 1, m.locate);
  v.setUint16(off + 3, m.tracking);
  v.setUint16(off + 5, Number(m.timestamp >> 32n));
  v.setUint32(off + 7, Number(m.timestamp & 0xffffffffn));
  let o = off + ITCH_HEADER_BYTES;
  const fields = spec.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const x = m.values[i];
    if (f.kind === 'alpha') {
      const s = x as string;
      for (let k = 0; k < f.size; k++) buf[o + k] = k < s.length ? s.charCodeAt(k) : 0x20;
    } else if (f.size === 8) v.setBigUint64(o, typeof x === 'bigint' ? x : BigInt(x));
    else if (f.size === 4) v.setUint32(o, x as number);
    else if (f.size === 2) v.setUint16(o, x as number);
    else v.setUint8(o, x as number);
    o += f.size;
  }
  return spec.size;
}

// --- decoded records (feed/itch/itch50.ts) --------------------------------------------------

export const RECORD_KIND = { MESSAGES: 1, GAP: 2, SESSION: 3, END: 4 } as const;
export const RECORD_HEADER_BYTES = 32;
export const CONTROL_RECORD_BYTES = 40;
export const FLAG_LATE = 1;

export interface DecodedMessage extends ItchMessage {
  sequence: bigint;
  session: number;
  late: boolean;
  /** Receive time, ns since the epoch (0 when the backend gave none). */
  receiveNs: bigint;
}

export interface ControlRecord {
  kind: 'gap' | 'session' | 'end';
  session: number;
  sessionName: string;
  /** gap: first missing sequence; session: first expected; end: next sequence. */
  a: bigint;
  /** gap: how many are missing. */
  b: bigint;
}

const latin1 = new TextDecoder('latin1');

/** Calls `fn(offset, length)` for each decoded message record in a KIND_MESSAGES batch. */
export function forEachRecord(bytes: Uint8Array, fn: (off: number, len: number) => void): void {
  for (let off = 0; off + RECORD_HEADER_BYTES <= bytes.length; ) {
    const len = RECORD_HEADER_BYTES + 8 * bytes[off + 1];
    if (off + len > bytes.length) throw new Error(`ITCH record batch: record at ${off} runs past the ${bytes.length}-byte batch`);
    fn(off, len);
    off += len;
  }
}

/** One decoded record as an object (slow path: for display, tests and --records output). */
export function readRecord(bytes: Uint8Array, off: number): DecodedMessage {
  const v = new DataView(bytes.buffer, bytes.byteOffset + off);
  const type = String.fromCharCode(v.getUint8(0));
  const spec = ITCH_BY_TYPE.get(type);
  if (!spec) throw new Error(`ITCH record: unknown type ${type}`);
  const n = v.getUint8(1);
  const values: FieldValue[] = [];
  for (let i = 0; i < n; i++) {
    const f = spec.fields[i];
    const x = v.getBigUint64(RECORD_HEADER_BYTES + 8 * i, true);
    if (f.kind === 'alpha') values.push(latin1.decode(bytes.subarray(off + RECORD_HEADER_BYTES + 8 * i, off + RECORD_HEADER_BYTES + 8 * i + f.size)));
    else values.push(f.size === 8 ? x : Number(x));
  }
  return {
    type,
    session: v.getUint8(2),
    late: (v.getUint8(3) & FLAG_LATE) !== 0,
    locate: v.getUint16(4, true),
    tracking: v.getUint16(6, true),
    sequence: v.getBigUint64(8, true),
    timestamp: v.getBigUint64(16, true),
    receiveNs: v.getBigUint64(24, true),
    values,
  };
}

export function readControl(kind: number, bytes: Uint8Array): ControlRecord {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return {
    kind: kind === RECORD_KIND.GAP ? 'gap' : kind === RECORD_KIND.SESSION ? 'session' : 'end',
    session: v.getUint8(0),
    a: v.getBigUint64(8, true),
    b: v.getBigUint64(16, true),
    sessionName: latin1.decode(bytes.subarray(24, 34)),
  };
}

/**
 * The record the plugins emit for a message, as the simulator predicts it (session slot, flags and
 * receive time zero): what the digest covers.
 */
export function canonicalRecord(m: ItchMessage, sequence: bigint): Uint8Array {
  const spec = ITCH_BY_TYPE.get(m.type)!;
  const out = new Uint8Array(RECORD_HEADER_BYTES + 8 * spec.fields.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, m.type.charCodeAt(0));
  v.setUint8(1, spec.fields.length);
  v.setUint16(4, m.locate, true);
  v.setUint16(6, m.tracking, true);
  v.setBigUint64(8, sequence, true);
  v.setBigUint64(16, m.timestamp, true);
  spec.fields.forEach((f, i) => {
    const o = RECORD_HEADER_BYTES + 8 * i;
    const x = m.values[i];
    if (f.kind === 'alpha') {
      const s = String(x);
      for (let k = 0; k < f.size; k++) out[o + k] = k < s.length ? s.charCodeAt(k) : 0x20;
    } else v.setBigUint64(o, BigInt(x), true);
  });
  return out;
}

/**
 * SHA-256 over the decoded stream: each record with its session slot, flags and receive time
 * zeroed, in arrival order. Equal digests mean the same messages, fields and sequence numbers.
 */
export class StreamDigest {
  private readonly h: Hash = createHash('sha256');
  private readonly scratch = new Uint8Array(RECORD_HEADER_BYTES + 8 * 16);
  count = 0;

  /** Adds a canonical record (the simulator's side). */
  addCanonical(rec: Uint8Array): void {
    this.h.update(rec);
    this.count++;
  }

  /** Adds every record of a KIND_MESSAGES batch (the client's side). */
  addBatch(bytes: Uint8Array): void {
    forEachRecord(bytes, (off, len) => {
      const s = this.scratch.subarray(0, len);
      s.set(bytes.subarray(off, off + len));
      s[2] = 0;
      s[3] = 0;
      s.fill(0, 24, 32);
      this.h.update(s);
      this.count++;
    });
  }

  hex(): string {
    return this.h.copy().digest('hex');
  }
}

// --- counters (wirewasm.counter_add ids of the plugins) ---------------------------------------

export const ITCH_COUNTERS = {
  packets: 0,
  messages: 1,
  gap_messages: 2,
  gap_events: 3,
  duplicates: 4,
  late: 5,
  malformed: 6,
  heartbeats: 7,
  end_of_session: 8,
  bad_packets: 9,
  sessions: 10,
  logins: 11,
  login_rejected: 12,
  debug: 13,
  latency_negative: 14,
  session_overflow: 15,
  extended: 16,
} as const;
/** Per A/B line (1..4): COUNTER_LINES + 4 × (line − 1) + the index of LINE_COUNTERS. */
export const COUNTER_LINES = 32;
export const LINE_COUNTERS = ['received', 'first_arrivals', 'late', 'lost'] as const;
export const COUNTER_BY_TYPE = 256;
export const COUNTER_LATENCY = 1024;
export const LATENCY_BUCKETS = 1024;

/** Lower bound in ns of latency histogram bucket b (feed/itch/itch50.ts latencyBucket). */
export function latencyBucketLow(b: number): number {
  if (b < 32) return b;
  const e = 5 + Math.floor((b - 32) / 16);
  const sub = (b - 32) % 16;
  return (16 + sub) * 2 ** (e - 4);
}

/** Quantile q (0..1) of a histogram indexed by bucket, as the bucket's midpoint in ns. */
export function histogramQuantile(hist: ArrayLike<number>, q: number): number {
  let total = 0;
  for (let i = 0; i < hist.length; i++) total += hist[i];
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen >= rank) return i < 32 ? i : (latencyBucketLow(i) + latencyBucketLow(i + 1)) / 2;
  }
  return 0;
}
