/**
 * Decoded ITCH 5.0 messages for applications: typed objects (a union discriminated by `type`, field
 * names as in the spec table of itch.ts), a zero-copy view over a record batch, and the `--messages`
 * jsonl line. Integers up to 4 bytes are numbers, 8-byte ones bigints; prices keep their implied
 * decimals (Price(4), Price(8)) as integers here and become decimal strings in JSON.
 */
import { price4 } from './book.js';
import { FLAG_LATE, ITCH_BY_TYPE, RECORD_HEADER_BYTES, type FieldSpec } from './itch.js';

interface Head<T extends string> {
  type: T;
  /** The MoldUDP64 / SoupBinTCP session's name. */
  session: string;
  sequence: bigint;
  locate: number;
  tracking: number;
  /** ITCH timestamp: ns since midnight. */
  timestamp: bigint;
  /** Receive time, ns since the epoch (0 when the backend gave none). */
  received_ns: bigint;
  /** Filled a gap (arrived after later messages). */
  late: boolean;
}
type A = string;
export type SystemEvent = Head<'S'> & { event_code: A };
export type StockDirectory = Head<'R'> & {
  stock: A; market_category: A; financial_status: A; round_lot_size: number; round_lots_only: A; issue_classification: A; issue_sub_type: A;
  authenticity: A; short_sale_threshold: A; ipo_flag: A; luld_tier: A; etp_flag: A; etp_leverage_factor: number; inverse_indicator: A;
};
export type StockTradingAction = Head<'H'> & { stock: A; trading_state: A; reserved: A; reason: A };
export type RegShoRestriction = Head<'Y'> & { stock: A; reg_sho_action: A };
export type MarketParticipantPosition = Head<'L'> & { mpid: A; stock: A; primary_market_maker: A; market_maker_mode: A; participant_state: A };
export type MwcbDeclineLevel = Head<'V'> & { level1: bigint; level2: bigint; level3: bigint };
export type MwcbStatus = Head<'W'> & { breached_level: A };
export type IpoQuotingPeriodUpdate = Head<'K'> & { stock: A; release_time: number; release_qualifier: A; ipo_price: number };
export type LuldAuctionCollar = Head<'J'> & { stock: A; reference_price: number; upper_collar: number; lower_collar: number; extension: number };
export type OperationalHalt = Head<'h'> & { stock: A; market_code: A; halt_action: A };
export type AddOrder = Head<'A'> & { order_ref: bigint; side: A; shares: number; stock: A; price: number };
export type AddOrderMpid = Head<'F'> & { order_ref: bigint; side: A; shares: number; stock: A; price: number; attribution: A };
export type OrderExecuted = Head<'E'> & { order_ref: bigint; executed_shares: number; match_number: bigint };
export type OrderExecutedWithPrice = Head<'C'> & { order_ref: bigint; executed_shares: number; match_number: bigint; printable: A; execution_price: number };
export type OrderCancel = Head<'X'> & { order_ref: bigint; cancelled_shares: number };
export type OrderDelete = Head<'D'> & { order_ref: bigint };
export type OrderReplace = Head<'U'> & { original_ref: bigint; new_ref: bigint; shares: number; price: number };
export type TradeMessage = Head<'P'> & { order_ref: bigint; side: A; shares: number; stock: A; price: number; match_number: bigint };
export type CrossTrade = Head<'Q'> & { shares: bigint; stock: A; cross_price: number; match_number: bigint; cross_type: A };
export type BrokenTrade = Head<'B'> & { match_number: bigint };
export type Noii = Head<'I'> & {
  paired_shares: bigint; imbalance_shares: bigint; imbalance_direction: A; stock: A; far_price: number; near_price: number; current_reference_price: number;
  cross_type: A; price_variation_indicator: A;
};
export type Rpii = Head<'N'> & { stock: A; interest_flag: A };
export type DlcrPriceDiscovery = Head<'O'> & {
  stock: A; open_eligibility: A; min_allowable_price: number; max_allowable_price: number; near_execution_price: number; near_execution_time: bigint;
  lower_price_collar: number; upper_price_collar: number;
};

/** Every ITCH 5.0 message, discriminated by `type`. */
export type FeedMessage =
  | SystemEvent | StockDirectory | StockTradingAction | RegShoRestriction | MarketParticipantPosition | MwcbDeclineLevel | MwcbStatus
  | IpoQuotingPeriodUpdate | LuldAuctionCollar | OperationalHalt | AddOrder | AddOrderMpid | OrderExecuted | OrderExecutedWithPrice
  | OrderCancel | OrderDelete | OrderReplace | TradeMessage | CrossTrade | BrokenTrade | Noii | Rpii | DlcrPriceDiscovery;

const latin1 = new TextDecoder('latin1');

/**
 * A cursor over one KIND_MESSAGES record batch (feed/itch/itch50.ts layout): no copy, no object
 * per message. `next()` moves to the following record; the getters read the current one.
 * `reset()` points the same cursor at another batch, so a reader on the hot path allocates nothing.
 */
export class MessageView {
  private u8: Uint8Array;
  private dv: DataView;
  private start = 0;
  private end = 0;
  private off = -1;
  private len = 0;

  constructor(
    bytes: Uint8Array = new Uint8Array(0),
    /** Session names by slot. */
    public sessions: readonly string[] = [],
  ) {
    this.u8 = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = bytes.length;
  }

  /**
   * The batch at bytes[at, at + len), read from its first record; `bytes` and `dv` view the same
   * memory from the same offset (as OrderBook and the feed client keep them).
   */
  reset(bytes: Uint8Array, dv: DataView, at: number, len: number, sessions: readonly string[] = this.sessions): this {
    this.u8 = bytes;
    this.dv = dv;
    this.start = at;
    this.end = at + len;
    this.sessions = sessions;
    return this.rewind();
  }

  /** The current batch's bytes (a copy of its own: it outlives the memory the cursor reads). */
  copy(): Uint8Array {
    return this.u8.slice(this.start, this.end);
  }

  /** Back to before the first record: the next `next()` reads it again. */
  rewind(): this {
    this.off = -1;
    this.len = 0;
    return this;
  }

  /** Moves to the next record; false at the end of the batch. */
  next(): boolean {
    this.off = this.off < 0 ? this.start : this.off + this.len;
    if (this.off + RECORD_HEADER_BYTES > this.end) return false;
    this.len = RECORD_HEADER_BYTES + 8 * this.u8[this.off + 1];
    return this.off + this.len <= this.end;
  }

  /**
   * The current record's sequence number as a plain number (exact below 2^53), and its receive
   * time in µs since the epoch: no bigint, for readers that must not allocate.
   */
  get sequenceNumber(): number {
    return this.dv.getUint32(this.off + 12, true) * 2 ** 32 + this.dv.getUint32(this.off + 8, true);
  }
  get receivedUs(): number {
    return (this.dv.getUint32(this.off + 28, true) * 2 ** 32 + this.dv.getUint32(this.off + 24, true)) / 1000;
  }

  get type(): string {
    return String.fromCharCode(this.u8[this.off]);
  }
  get typeCode(): number {
    return this.u8[this.off];
  }
  get session(): string {
    return this.sessions[this.u8[this.off + 2]] ?? '';
  }
  get late(): boolean {
    return (this.u8[this.off + 3] & FLAG_LATE) !== 0;
  }
  get locate(): number {
    return this.dv.getUint16(this.off + 4, true);
  }
  get tracking(): number {
    return this.dv.getUint16(this.off + 6, true);
  }
  get sequence(): bigint {
    return this.dv.getBigUint64(this.off + 8, true);
  }
  get timestamp(): bigint {
    return this.dv.getBigUint64(this.off + 16, true);
  }
  get receivedNs(): bigint {
    return this.dv.getBigUint64(this.off + 24, true);
  }
  /** Field i as an unsigned integer (up to 4 bytes). */
  u32(i: number): number {
    return this.dv.getUint32(this.off + RECORD_HEADER_BYTES + 8 * i, true);
  }
  /** Field i as a 64-bit unsigned integer. */
  u64(i: number): bigint {
    return this.dv.getBigUint64(this.off + RECORD_HEADER_BYTES + 8 * i, true);
  }
  /** Field i as ASCII text of `size` bytes. */
  text(i: number, size: number): string {
    const a = this.off + RECORD_HEADER_BYTES + 8 * i;
    return latin1.decode(this.u8.subarray(a, a + size));
  }
}

const value = (v: MessageView, f: FieldSpec, i: number): string | number | bigint =>
  f.kind === 'alpha' ? (f.name === 'stock' ? v.text(i, f.size).trimEnd() : v.text(i, f.size)) : f.size === 8 ? v.u64(i) : v.u32(i);

/** The current message of a view as a typed object. */
export function toMessage(v: MessageView): FeedMessage {
  const spec = ITCH_BY_TYPE.get(v.type)!;
  const m: Record<string, unknown> = {
    type: v.type, session: v.session, sequence: v.sequence, locate: v.locate, tracking: v.tracking, timestamp: v.timestamp, received_ns: v.receivedNs, late: v.late,
  };
  spec.fields.forEach((f, i) => (m[f.name] = value(v, f, i)));
  return m as unknown as FeedMessage;
}

/** Every message of a batch as typed objects. */
export function batchMessages(bytes: Uint8Array, sessions: readonly string[]): FeedMessage[] {
  const v = new MessageView(bytes, sessions);
  const out: FeedMessage[] = [];
  while (v.next()) out.push(toMessage(v));
  return out;
}

const price8 = (p: bigint) => `${p / 100_000_000n}.${String(p % 100_000_000n).padStart(8, '0')}`;

/**
 * The current message as one `--messages` jsonl line: spec field names, prices as decimal strings
 * (4 or 8 places), stock symbols trimmed, the session and sequence, the receive time in ns since
 * the epoch. 64-bit integers are written as exact JSON numbers.
 */
export function messageLine(v: MessageView): string {
  const spec = ITCH_BY_TYPE.get(v.type)!;
  let s = `{"type":"${v.type}","name":"${spec.name}","session":${JSON.stringify(v.session.trimEnd())},"sequence":${v.sequence},"locate":${v.locate},"tracking":${v.tracking},"timestamp":${v.timestamp},"received_ns":${v.receivedNs}`;
  if (v.late) s += ',"late":true';
  spec.fields.forEach((f, i) => {
    const x = f.kind === 'price4' ? `"${price4(v.u32(i))}"` : f.kind === 'price8' ? `"${price8(v.u64(i))}"` : f.kind === 'alpha' ? JSON.stringify(value(v, f, i)) : String(value(v, f, i));
    s += `,"${f.name}":${x}`;
  });
  return s + '}';
}
