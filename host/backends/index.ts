/**
 * Opening a backend by name, with the configuration checked before anything touches the kernel.
 * Errors are BackendErrors whose `reason` names the cause and whose message says the fix: no such
 * interface, interface down, missing privilege, an XDP program of someone else on the interface,
 * ring sizes not powers of two, a memory map too small for the rings.
 *
 * Backends other helpers add (io_uring, socket, pcap) register here with one line in BACKENDS.
 */
import { afpacketKernelBytes, openAfPacket, type AfPacketConfig, type AfPacketOptions } from './afpacket.js';
import { afxdpKernelBytes, openAfXdp, type AfXdpConfig, type AfXdpOptions } from './afxdp.js';
import { BackendError, type Backend, type BackendConfig } from './types.js';
import { openSocket, socketKernelBytes, type PayloadBackendConfig } from './socket.js';
import { ioUringKernelBytes, openIoUring } from './io_uring.js';
import { openPcap, type PcapConfig } from './pcap.js';
import { dpdkKernelBytes, openDpdkBackend, type DpdkConfig } from './dpdk.js';

export * from './types.js';
export { afpacketKernelBytes, afxdpKernelBytes };

type Opener = (config: BackendConfig & Record<string, unknown>) => Backend;

const BACKENDS: Record<string, Opener> = {
  afxdp: (c) => openAfXdp(c as AfXdpConfig),
  afpacket: (c) => openAfPacket(c as AfPacketConfig),
  io_uring: (c) => openIoUring(c as unknown as PayloadBackendConfig),
  socket: (c) => openSocket(c as unknown as PayloadBackendConfig),
  pcap: (c) => openPcap(c as unknown as PcapConfig),
  dpdk: (c) => openDpdkBackend(c as unknown as BackendConfig & { dpdk: DpdkConfig }),
};

export const backendNames = (): string[] => Object.keys(BACKENDS);

/** Registers another backend (io_uring, socket, pcap...). */
export function registerBackend(name: string, open: Opener): void {
  BACKENDS[name] = open;
}

export function openBackend(name: string, config: AfXdpConfig | AfPacketConfig | (BackendConfig & Record<string, unknown>)): Backend {
  const open = BACKENDS[name];
  if (!open) throw new BackendError('bad-config', `no backend named "${name}"; use one of: ${backendNames().join(', ')}`);
  const buffer = (config.memory as WebAssembly.Memory | undefined)?.buffer as ArrayBufferLike | undefined;
  if (!(config.memory instanceof WebAssembly.Memory) || !(buffer instanceof SharedArrayBuffer))
    throw new BackendError('bad-config', `${name}: config.memory must be the engine's shared WebAssembly.Memory (createMemory(layout))`);
  if (buffer.byteLength < config.layout.totalBytes)
    throw new BackendError('memory-too-small', `${name}: the memory holds ${buffer.byteLength} bytes but the layout needs ${config.layout.totalBytes}; create it with createMemory(layout)`);
  return open(config as BackendConfig & Record<string, unknown>);
}

/**
 * Bytes per queue the layout must reserve for a backend's kernel rings with these options: pass it
 * as `kernelBytesPerQueue` to computeLayout. AF_XDP's ring sizes follow the frames per queue, so
 * give it the layout's frameCount and queues.
 */
export function kernelBytesFor(name: string, options: (AfXdpOptions & AfPacketOptions & { burst?: number; frameCount?: number; queues?: number }) = {}): number {
  if (name === 'afxdp') return afxdpKernelBytes(options);
  if (name === 'afpacket') return afpacketKernelBytes(options);
  if (name === 'io_uring') return ioUringKernelBytes(options);
  if (name === 'socket') return socketKernelBytes();
  if (name === 'dpdk') return dpdkKernelBytes();
  return 0;
}
