import { describe, expect, it } from 'vitest';
import { computeLayout, createMemory, writeControlBlock } from '../../host/layout.js';
import { compileEngine } from '../../host/wasm.js';
import { WorkerError, runWorkers } from '../../host/workers/threads.js';

const fixture = (name: string) => new URL(`../support/fixtures/${name}`, import.meta.url);

function setup() {
  const layout = computeLayout({ workers: 4, frameCount: 16 });
  const memory = createMemory(layout);
  writeControlBlock(memory, layout);
  return { layout, memory, module: compileEngine(), controlBlock: layout.controlBlock };
}

describe('workers on one shared memory', () => {
  it('4 workers doing 1M atomic adds each on one counter give exactly 4M', async () => {
    const { layout, memory, module, controlBlock } = setup();
    const counter = layout.statsAddress(0);
    const slots = layout.statsAddress(1);
    const times = 1_000_000;
    const results = await runWorkers<{ index: number }>({ count: 4, memory, module, controlBlock, task: fixture('count-task.mjs'), args: { counter, slots, times } });
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    expect(new Uint32Array(memory.buffer, counter, 1)[0]).toBe(4 * times);
    // Each worker's write is visible to the host: they really share this memory.
    expect([...new Int32Array(memory.buffer, slots, 4)]).toEqual([1, 2, 3, 4]);
  });

  it('reports a worker that throws as an error with its index and cause', async () => {
    const { memory, module, controlBlock } = setup();
    const run = runWorkers({ count: 3, memory, module, controlBlock, task: fixture('throw-task.mjs') });
    await expect(run).rejects.toBeInstanceOf(WorkerError);
    await expect(run).rejects.toMatchObject({ index: 1, message: expect.stringMatching(/worker 1: threw RangeError: boom from worker one/) });
  });

  it('reports a worker that exits before its result, never hangs', async () => {
    const { memory, module, controlBlock } = setup();
    const run = runWorkers({ count: 3, memory, module, controlBlock, task: fixture('exit-task.mjs') });
    await expect(run).rejects.toMatchObject({ index: 2, message: expect.stringMatching(/exited with code 7 before reporting/) });
  });

  it('reports a task module that cannot be loaded', async () => {
    const { memory, module, controlBlock } = setup();
    const run = runWorkers({ count: 1, memory, module, controlBlock, task: fixture('no-such-task.mjs') });
    await expect(run).rejects.toMatchObject({ index: 0, message: expect.stringMatching(/no-such-task/) });
  });
});
