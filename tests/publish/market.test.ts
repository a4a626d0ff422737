// Market data through a real nats-server: each BBO change and trade arrives once, as sent, on the
// subject of its feed, symbol and type, so wildcard subscriptions pick exactly what they name.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { PublishSink } from '../../host/publish/sink.js';
import { publishMarketData, type MarketDataEvent } from '../../host/publish/market.js';
import { closeAll, natsCluster, type NatsCluster } from '../support/nats-cluster.js';

let nats: NatsCluster;
beforeAll(async () => {
  nats = await natsCluster(1);
});
afterAll(closeAll);

async function* feedEvents(): AsyncGenerator<MarketDataEvent> {
  for (let i = 0; i < 300; i++) {
    const symbol = ['AAPL', 'MSFT', 'BRK.A'][i % 3];
    if (i % 4 === 3) yield { type: 'trade', symbol, price: 1_000_000 + i, size: i, side: 'B', timeNs: 34_200_000_000_000n + BigInt(i) };
    else yield { type: 'bbo', symbol, bid: 999_900 + i, bidSize: 100, ask: 1_000_100 + i, askSize: 200, timeNs: 34_200_000_000_000 + i };
  }
}

it('publishes every BBO change and trade once on md.<feed>.<symbol>.<type>, as sent', async () => {
  const nc = await connect({ servers: nats.url });
  const bbo: string[] = [];
  const trades: { subject: string; body: Record<string, unknown> }[] = [];
  const subBbo = nc.subscribe('md.itch.*.bbo');
  const subTrade = nc.subscribe('md.itch.>');
  void (async () => { for await (const m of subBbo) bbo.push(m.subject); })();
  void (async () => { for await (const m of subTrade) if (m.subject.endsWith('.trade')) trades.push({ subject: m.subject, body: m.json() }); })();
  await nc.flush();
  const sink = await PublishSink.open({ url: nats.url, engineId: 'md1', statsIntervalMs: 0 });
  const counts = await publishMarketData(sink, 'itch', feedEvents());
  await nc.flush();
  await new Promise((r) => setTimeout(r, 200));
  expect(counts).toEqual({ bbo: 225, trade: 75 });
  expect(bbo.length).toBe(225);
  expect(trades.length).toBe(75);
  // A symbol with a dot is one subject token ('BRK_A'), so md.itch.*.bbo still matches it.
  expect(new Set(bbo)).toEqual(new Set(['md.itch.AAPL.bbo', 'md.itch.MSFT.bbo', 'md.itch.BRK_A.bbo']));
  // Trade i = 3, 7, 11, ... in order, its bigint time exact.
  expect(trades.map((t) => t.body.size)).toEqual(Array.from({ length: 75 }, (_, k) => 4 * k + 3));
  expect(trades[0]).toEqual({ subject: 'md.itch.AAPL.trade', body: { type: 'trade', symbol: 'AAPL', price: 1_000_003, size: 3, side: 'B', timeNs: '34200000000003' } });
  await expect(publishMarketData(sink, 'itch', [{ type: 'quote', symbol: 'X' } as unknown as MarketDataEvent])).rejects.toThrow(/"quote" is not 'bbo' or 'trade'/);
  await sink.close();
  await nc.close();
});
