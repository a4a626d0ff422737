// A filter attached in the kernel to a socket (SO_ATTACH_FILTER): on an AF_PACKET source, packets
// it rejects never reach the ring. The kernel runs the BPF itself, so Linux ancillary loads the
// WASM translation refuses (`inbound`, `ifindex`...) work here.
import { loadNative } from '../native.js';
import { encodeBpf, type BpfInsn } from './bpf.js';

interface SocketFilterAddon {
  attachSocketFilter(fd: number, insns: Uint8Array): void;
  detachSocketFilter(fd: number): void;
}

const addon = () => loadNative() as unknown as SocketFilterAddon;

/** Attaches the program to the socket `fd`, replacing any filter it had. */
export function attachSocketFilter(fd: number, insns: readonly BpfInsn[]): void {
  addon().attachSocketFilter(fd, encodeBpf(insns));
}

/** Removes the socket's filter (nothing happens when it has none). */
export function detachSocketFilter(fd: number): void {
  addon().detachSocketFilter(fd);
}
