// Runs a translated filter over frames the way the engine will: frames and their 64-byte metadata
// records in one shared memory, one filterBurst call over a list of frame indexes, and also
// filter() per frame. The last frame ends exactly at the end of the memory, so a load the
// translation failed to bound would trap instead of reading zeros.
import type { Filter } from '../../host/filter/index.js';
import type { RefFrame } from './libpcap-ref.js';

const PAGE = 65536;
const META = 64;

export interface FilterRun {
  single: Uint32Array;
  burst: Uint32Array;
  accepted: number;
}

/** Lays the frames out in a fresh shared memory; run() then judges them with any filter. */
export function loadFrames(frames: RefFrame[]): { run(filter: Filter): FilterRun } {
  const n = frames.length;
  const metaBase = 64;
  const list = metaBase + n * META;
  const verdicts = list + n * 4;
  const dataBytes = frames.reduce((s, f) => s + f.data.length + 1, 0);
  const pages = Math.ceil((verdicts + n * 4 + dataBytes) / PAGE) + 1;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const bytes = new Uint8Array(memory.buffer);
  const dv = new DataView(memory.buffer);
  // Frames packed backwards from the end of the memory, one byte apart (so most start unaligned).
  let end = memory.buffer.byteLength;
  const addrs: number[] = new Array(n);
  for (let i = n - 1; i >= 0; i--) {
    addrs[i] = end - frames[i].data.length;
    bytes.set(frames[i].data, addrs[i]);
    end = addrs[i] - 1;
  }
  for (let i = 0; i < n; i++) {
    const m = metaBase + i * META;
    dv.setUint32(m, addrs[i], true);
    dv.setUint32(m + 4, frames[i].data.length, true);
    dv.setUint32(m + 8, frames[i].wirelen, true);
    dv.setUint32(m + 60, 0xffffffff, true); // next: one segment (the engine's records say so too)
    dv.setUint32(list + i * 4, i, true);
  }
  return {
    run(filter: Filter): FilterRun {
      const inst = filter.instantiate(memory);
      const single = new Uint32Array(n);
      for (let i = 0; i < n; i++) single[i] = inst.filter(addrs[i], frames[i].data.length, frames[i].wirelen) >>> 0;
      new Uint8Array(memory.buffer, verdicts, n * 4).fill(0xee);
      const accepted = inst.filterBurst(list, n, metaBase, verdicts);
      const burst = new Uint32Array(memory.buffer.slice(verdicts, verdicts + n * 4));
      return { single, burst, accepted };
    },
  };
}

export const runFilter = (filter: Filter, frames: RefFrame[]): FilterRun => loadFrames(frames).run(filter);

/**
 * The frames as the engine holds a frame longer than a pool frame: each cut into segments (the
 * lengths `cut` returns, at least one, summing to the frame's length), every segment's bytes in a
 * place of its own and a 64-byte record of its own (data, caplen), linked by `next` (its frame
 * index, 0xffffffff on the last); the head's record has the wirelen. filterBurst judges the list
 * of heads. Segments are laid downward from the end of the memory with a gap byte after each:
 * a load past the first frame's first segment would trap; past any other it reads the gap and the
 * next segment's bytes, which the comparison with libpcap catches where the verdict changes.
 */
export function runChained(filter: Filter, frames: RefFrame[], cut: (len: number) => number[]): { burst: Uint32Array; accepted: number } {
  const parts = frames.map((f) => {
    const lens = cut(f.data.length);
    let at = 0;
    return lens.map((l) => f.data.subarray(at, (at += l)));
  });
  const records = parts.reduce((s, p) => s + p.length, 0);
  const metaBase = 64;
  const list = metaBase + records * META;
  const verdicts = list + frames.length * 4;
  const bytes = parts.flat().reduce((s, p) => s + p.length + 1, 0);
  const pages = Math.ceil((verdicts + frames.length * 4 + bytes) / PAGE) + 1;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const u8 = new Uint8Array(memory.buffer);
  const dv = new DataView(memory.buffer);
  let end = memory.buffer.byteLength;
  let index = 0;
  frames.forEach((f, i) => {
    const head = index;
    dv.setUint32(list + i * 4, head, true);
    parts[i].forEach((seg, s) => {
      const m = metaBase + index * META;
      end -= seg.length;
      u8.set(seg, end);
      dv.setUint32(m, end, true);
      dv.setUint32(m + 4, seg.length, true);
      dv.setUint32(m + 8, s === 0 ? f.wirelen : 0, true);
      dv.setUint32(m + 60, s + 1 < parts[i].length ? index + 1 : 0xffffffff, true);
      end -= 1;
      index++;
    });
  });
  const inst = filter.instantiate(memory);
  const accepted = inst.filterBurst(list, frames.length, metaBase, verdicts);
  return { burst: new Uint32Array(memory.buffer.slice(verdicts, verdicts + frames.length * 4)), accepted };
}
