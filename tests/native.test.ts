import { describe, expect, it } from 'vitest';
import { loadNative } from '../host/native.js';

describe('native addon', () => {
  const native = loadNative();

  it('reports the version of the package', async () => {
    const { default: pkg } = await import('../package.json', { with: { type: 'json' } });
    expect(native.version).toBe(pkg.version);
  });

  it('returns a page-aligned base address that does not move when the memory grows', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 256, shared: true });
    const base = native.memoryBase(memory);
    expect(base % 4096n).toBe(0n);
    expect(native.memoryLength(memory)).toBe(65536);
    memory.grow(100);
    expect(native.memoryBase(memory)).toBe(base);
    expect(native.memoryLength(memory)).toBe(101 * 65536);
  });

  it('gives distinct memories distinct bases', () => {
    const a = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    const b = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    expect(native.memoryBase(a)).not.toBe(native.memoryBase(b));
  });

  it('rejects something that is not a memory with a clear message', () => {
    expect(() => native.memoryBase(42 as unknown as WebAssembly.Memory)).toThrow(/WebAssembly.Memory created with shared: true/);
  });

  it('probes each kernel feature with an ok flag, and an errno code when not ok', () => {
    const p = native.probeKernel();
    for (const k of ['afXdp', 'afPacket', 'ioUring', 'bpf'] as const) {
      expect(typeof p[k].ok).toBe('boolean');
      if (!p[k].ok) expect(p[k].code).toMatch(/^E[A-Z]+$/);
    }
  });

  // Each addon file registers its functions through one table (native/addon.h Register): every
  // row lands as a function under its name, and the name is the function's own.
  it('exports every function of the registration tables under its own name', () => {
    const fns = native as unknown as Record<string, unknown>;
    const names = ['memoryBase', 'probeKernel', 'clockNs', 'fdWake', 'afpacketOpen', 'afpacketStats', 'xskOpen', 'xskStats', 'xdpAttach', 'xskMapSet',
      'pinThread', 'bindToNode', 'ifInfo', 'iouringOpen', 'iouringClose', 'iouringSenderOpen', 'iouringSenderClose', 'pcapCompile', 'pcapLibVersion',
      'attachSocketFilter', 'detachSocketFilter'];
    for (const n of names) {
      expect(typeof fns[n], n).toBe('function');
      expect((fns[n] as () => unknown).name).toBe(n);
    }
  });

  it('rejects an interface open or stats call whose argument is not what it takes, naming what it takes', () => {
    const fns = native as unknown as Record<string, (a?: unknown) => unknown>;
    for (const n of ['xskOpen', 'afpacketOpen', 'xdpAttach', 'ifInfo']) {
      expect(() => fns[n](42), n).toThrow(TypeError);
      expect(() => fns[n](), n).toThrow(/expected one options object/);
    }
    expect(() => fns.afpacketStats('3')).toThrow(/PACKET_STATISTICS: expected the socket's fd/);
    expect(() => fns.xskStats(undefined)).toThrow(/XDP_STATISTICS: expected the socket's fd/);
  });
});
