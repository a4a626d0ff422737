// `memory`: the baseline every other suite builds on: cost of one JS->WASM call, and of an atomic
// add on a cache line that another worker also writes (the price of a per-item publish).
import { Bench } from 'tinybench';
import { computeLayout, createMemory, writeControlBlock } from '../../host/layout.js';
import { compileEngine, instantiateEngine } from '../../host/wasm.js';
import { summarize, type Suite } from '../common.js';

const suite: Suite = async ({ log }) => {
  const layout = computeLayout({ frameCount: 16 });
  const memory = createMemory(layout);
  writeControlBlock(memory, layout);
  const engine = instantiateEngine(compileEngine(), memory);
  const addr = layout.statsAddress(0);
  const bench = new Bench({ time: 500 });
  bench.add('js-to-wasm-call', () => {
    engine.counterAddLoop(addr, 1, 0);
  });
  bench.add('wasm-atomic-add-x1000', () => {
    engine.counterAddLoop(addr, 1, 1000);
  });
  log('memory: measuring call and atomic costs');
  await bench.run();
  return bench.tasks.map((t) => {
    const r = t.result as unknown as { throughput?: { mean: number; min?: number; max?: number }; samples?: number[] } | undefined;
    const hz = r?.throughput?.mean ?? 0;
    return summarize(t.name, 'ops/s', [hz], { min: r?.throughput?.min ?? hz, max: r?.throughput?.max ?? hz });
  });
};
export default suite;
