// Market data out of the feed handler onto NATS: every BBO change and trade of a symbol becomes one
// JSON message on md.<feed>.<symbol>.bbo / .trade (host/publish/subjects.ts), so a consumer takes
// one symbol, one feed or everything with a wildcard (`md.itch.*.bbo`). One message per event, not
// a records batch: market-data consumers want each change as it happens, and these events are a
// small fraction of the frames that produced them.
import type { PublishSink } from './sink.js';
import { marketData } from './subjects.js';

/** A best bid/offer change of one symbol. Prices as the feed gives them (ITCH: 1/10000 dollars). */
export interface BboEvent {
  type: 'bbo';
  symbol: string;
  bid: number;
  bidSize: number;
  ask: number;
  askSize: number;
  /** When the feed said it happened, ns (exchange time) */
  timeNs: number | bigint;
}

/** A trade of one symbol. */
export interface TradeEvent {
  type: 'trade';
  symbol: string;
  price: number;
  size: number;
  /** Side of the resting order the trade executed against, when the feed says. */
  side?: 'B' | 'S';
  timeNs: number | bigint;
}

export type MarketDataEvent = BboEvent | TradeEvent;

export interface MarketDataCounts {
  bbo: number;
  trade: number;
}

const encoder = new TextEncoder();
// u64 fields (exchange times) may come as bigint; JSON has no bigint, the decimal digits keep them exact.
const json = (e: MarketDataEvent): Uint8Array => encoder.encode(JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));

/**
 * Publishes every event of `events` on its md.<feed>.<symbol>.<type> subject through the sink's
 * connection (core NATS, one JSON message each: the event as given), until the iterable ends;
 * then flushes, so what it returns was read by the server. Events of another type throw, naming it.
 */
export async function publishMarketData(sink: PublishSink, feed: string, events: AsyncIterable<MarketDataEvent> | Iterable<MarketDataEvent>): Promise<MarketDataCounts> {
  const counts: MarketDataCounts = { bbo: 0, trade: 0 };
  for await (const e of events) {
    if (e.type !== 'bbo' && e.type !== 'trade') throw new Error(`publishMarketData: event type "${(e as { type: unknown }).type}" is not 'bbo' or 'trade'`);
    sink.nc.publish(marketData[e.type](feed, e.symbol), json(e));
    counts[e.type]++;
  }
  await sink.nc.flush();
  return counts;
}
