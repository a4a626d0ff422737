// What every capture reader yields and every writer takes: one captured packet.

export interface CaptureRecord {
  /** pcap LINKTYPE_* of the bytes (from the file header or the pcapng interface). */
  linktype: number;
  /** Seconds since 1970 in nanoseconds (exact: a bigint, as pcapng can be finer than a double holds). */
  timestampNs: bigint;
  /** Captured bytes (a view into the file's buffer: no copy). */
  data: Uint8Array;
  /** Length on the wire, >= data.length. */
  wireLength: number;
  /** pcapng interface id (0 for classic pcap). */
  interfaceId: number;
  /** pcapng: the packet's comment (opt_comment of its Enhanced Packet Block), when it has one. */
  comment?: string;
}

/** A capture file that cannot be read on: names the file offset and the problem. */
export class CaptureFormatError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(`${message} (at byte ${offset})`);
    this.name = 'CaptureFormatError';
  }
}

/** The largest record a reader accepts: libpcap's MAXIMUM_SNAPLEN. Larger means a corrupt header. */
export const MAX_RECORD_BYTES = 262144;
