/**
 * Threads and memory placement, best effort and reported: pin the calling thread (main or a
 * worker) to CPUs, find the NUMA node of an interface and of a region of the shared memory, and
 * prefer a node for a region. Each call says what happened and, when it could not, why.
 */
import { kernelAddon } from './backends/kernel.js';
import { interfaceCapabilities } from './ifcaps.js';

export interface PlacementReport {
  ok: boolean;
  detail: string;
}

/** Pins the calling thread to `cpus` (sched_setaffinity on this thread only). */
export function pinThread(cpus: number[]): PlacementReport & { cpus: number[] } {
  const native = kernelAddon();
  try {
    native.pinThread(cpus);
    const now = native.threadAffinity();
    return { ok: true, cpus: now, detail: `thread runs on CPU ${now.join(',')}` };
  } catch (e) {
    return { ok: false, cpus: native.threadAffinity(), detail: `could not pin to CPU ${cpus.join(',')}: ${(e as Error).message} (CPUs outside this process's cpuset?)` };
  }
}

/** NUMA node of an interface's device, or null with the reason (virtual device, single node). */
export function interfaceNode(iface: string, netns?: string): { node: number | null; detail: string } {
  const node = interfaceCapabilities(iface, { netns }).numaNode;
  return { node, detail: node === null ? `${iface} reports no NUMA node (virtual device, or a single-node machine)` : `${iface} is on node ${node}` };
}

/** NUMA node of the page at `offset` in the memory (the page is touched first so it exists). */
export function memoryNode(memory: WebAssembly.Memory, offset: number): { node: number | null; detail: string } {
  new Uint8Array(memory.buffer)[offset] |= 0;
  const r = kernelAddon().numaNodeOf(memory, offset);
  return r >= 0 ? { node: r, detail: `page at ${offset} is on node ${r}` } : { node: null, detail: `get_mempolicy failed (errno ${-r}): no NUMA support here` };
}

/** Prefers `node` for the pages of [offset, offset+length) (mbind MPOL_PREFERRED, moving existing pages). */
export function bindRegion(memory: WebAssembly.Memory, offset: number, length: number, node: number): PlacementReport {
  const r = kernelAddon().bindToNode(memory, offset, length, node);
  return r === 0 ? { ok: true, detail: `region ${offset}+${length} prefers node ${node}` } : { ok: false, detail: `mbind failed (errno ${-r}); the region stays where the kernel put it` };
}
