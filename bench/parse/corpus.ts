// The parse bench corpus: N frames in the mix below, generated from a seeded PRNG so
// every peer (WASM, JS, C, npm pcap/cap) parses the very same bytes.
//
// | kind                           | share | shape                                               |
// |--------------------------------|-------|-----------------------------------------------------|
// | IPv4/UDP 60 B                  | 30 %  | eth + ipv4 + udp + 18 B payload                     |
// | IPv4/TCP with options          | 20 %  | tcp data offset 8: MSS, SACK-permitted, timestamps   |
// | 802.1Q/IPv4/UDP                | 10 %  |                                                     |
// | QinQ/IPv4/TCP                  |  3 %  | 88a8 + 8100 tags                                    |
// | IPv6/TCP                       | 15 %  |                                                     |
// | IPv6 + hop-by-hop + frag/UDP   |  5 %  | first fragments                                     |
// | ICMPv6                         |  2 %  | echo request                                        |
// | ARP                            |  5 %  |                                                     |
// | ICMP                           |  5 %  | echo request                                        |
// | IPv4 with options/UDP          |  3 %  | IHL 6 (router alert)                                |
// | IPv4 non-first fragment        |  2 %  | UDP protocol, offset > 0                            |
//
// Frames are packed one after another (16-byte aligned) like a capture block, not one per 2 KiB
// slot: 1M frames take ~100 MB instead of 2 GB.
//
// Addresses: by default every frame draws fresh MAC and IP addresses. With `traffic` given, each
// frame belongs to one of `flows` flows (picked at random), a pair of hosts out of `hosts`; a host
// has the same MAC and IP addresses in every frame, while ports, IDs, sequence numbers and lengths
// still vary per frame. That is what a real capture looks like, and what tools that cache per
// address are built for: tcpdump keeps every address it printed in tables of 4096 chained buckets,
// never evicted, hashed on the address's first 12 bits in memory order (so 10.0.0.0/8 shares 16
// buckets); with fresh addresses per frame each lookup walks chains as long as the file so far,
// and tcpdump slows down quadratically (0.6 ms of CPU per frame at 300,000 frames).

export const MIX: [kind: string, percent: number][] = [
  ['ipv4-udp', 30], ['ipv4-tcp-opts', 20], ['vlan-ipv4-udp', 10], ['qinq-ipv4-tcp', 3], ['ipv6-tcp', 15], ['ipv6-hbh-frag-udp', 5],
  ['icmpv6', 2], ['arp', 5], ['icmp', 5], ['ipv4-opts-udp', 3], ['ipv4-frag', 2],
];

export interface Corpus {
  count: number;
  /** Offset of each frame from the corpus base. */
  offsets: Uint32Array;
  lengths: Uint16Array;
  /** Bytes used from the base. */
  bytes: number;
  kinds: Uint8Array;
}

/** xorshift32: tiny, seeded, the same sequence in every run (also the fuzz test's generator). */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Bytes each kind needs at most (for sizing the buffer): 14 + 8 tags + 40 + 16 ext + 32 + 24 payload. */
export const MAX_FRAME = 160;

export function corpusBytes(count: number): number {
  return count * (MAX_FRAME + 16);
}

function csum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[off + i] << 8) | b[off + i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Flows over a bounded set of hosts (see the header). */
export interface Traffic {
  flows: number;
  hosts: number;
}

/** Writes `count` frames at `base` of `mem`; returns where each is. `traffic`: see the header. */
export function generateCorpus(mem: Uint8Array, base: number, count: number, seed = 0x5eed, traffic?: Traffic): Corpus {
  const r = xorshift32(seed);
  const cumulative: number[] = [];
  let acc = 0;
  for (const [, p] of MIX) cumulative.push((acc += p));
  const offsets = new Uint32Array(count);
  const lengths = new Uint16Array(count);
  const kinds = new Uint8Array(count);
  const dv = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  let at = base;
  for (let i = 0; i < count; i++) {
    const pick = r() % 100;
    const kind = cumulative.findIndex((c) => pick < c);
    const p = at;
    let o = p;
    // The generators of the source's and the destination's addresses: the frame's own (r), or
    // those of its flow's two hosts, restarted at each frame (a host's first draw is its MAC, the
    // next its IP address).
    let hs = r;
    let hd = r;
    if (traffic) {
      const flow = xorshift32(Math.imul(1 + (r() % traffic.flows), 0x9e3779b1) ^ seed);
      hs = xorshift32(Math.imul(1 + (flow() % traffic.hosts), 0x85ebca6b) ^ seed);
      hd = xorshift32(Math.imul(1 + (flow() % traffic.hosts), 0x85ebca6b) ^ seed);
    }
    const u16 = (v: number) => (dv.setUint16(o, v), (o += 2));
    const u32 = (v: number) => (dv.setUint32(o, v >>> 0), (o += 4));
    const u8 = (v: number) => (mem[o++] = v);
    // Ethernet: locally administered MACs.
    u16(0x0200); u32(hd()); u16(0x0200); u32(hs());
    const name = MIX[kind][0];
    const ipv4 = (proto: number, payloadLen: number, opts = 0, frag = 0) => {
      const start = o;
      u8(0x45 + opts); u8(0); u16(20 + opts * 4 + payloadLen); u16(r() & 0xffff); u16(frag); u8(64); u8(proto); u16(0);
      u32(0x0a000000 | (hs() & 0xffffff)); u32(0xc0a80000 | (hd() & 0xffff));
      if (opts) u32(0x94040000); // router alert
      dv.setUint16(start + 10, csum(mem, start, 20 + opts * 4));
    };
    const ipv6 = (nh: number, payloadLen: number) => {
      u32(0x60000000 | (r() & 0xfffff)); u16(payloadLen); u8(nh); u8(64);
      u32(0x20010db8); u32(hs()); u32(hs()); u32(hs()); u32(0x20010db8); u32(hd()); u32(hd()); u32(hd());
    };
    const udp = (payload: number) => {
      u16(1024 + (r() % 60000)); u16(r() % 2 ? 53 : 443); u16(8 + payload); u16(0);
      for (let k = 0; k < payload; k++) u8(k);
    };
    const tcpOpts = (payload: number) => {
      u16(1024 + (r() % 60000)); u16(r() % 2 ? 80 : 443); u32(r()); u32(r()); u8(0x80); u8(0x12); u16(65535); u16(0); u16(0);
      u32(0x020405b4); u32(0x0402080a); u32(r()); u32(0); u32(0x01030307);
      for (let k = 0; k < payload; k++) u8(k);
    };
    const tcp = (payload: number) => {
      u16(1024 + (r() % 60000)); u16(443); u32(r()); u32(r()); u8(0x50); u8(0x10); u16(512); u16(0); u16(0);
      for (let k = 0; k < payload; k++) u8(k);
    };
    switch (name) {
      case 'ipv4-udp': u16(0x0800); ipv4(17, 26); udp(18); break;
      case 'ipv4-tcp-opts': { const pl = r() % 24; u16(0x0800); ipv4(6, 32 + pl); tcpOpts(pl); break; }
      case 'vlan-ipv4-udp': u16(0x8100); u16(r() & 0xfff); u16(0x0800); ipv4(17, 26); udp(18); break;
      case 'qinq-ipv4-tcp': u16(0x88a8); u16(r() & 0xfff); u16(0x8100); u16(r() & 0xfff); u16(0x0800); ipv4(6, 20); tcp(0); break;
      case 'ipv6-tcp': { const pl = r() % 24; u16(0x86dd); ipv6(6, 20 + pl); tcp(pl); break; }
      case 'ipv6-hbh-frag-udp':
        u16(0x86dd); ipv6(0, 8 + 8 + 8 + 16);
        u8(44); u8(0); u16(0x0502); u32(0x01000000); // hop-by-hop: router alert + pad
        u8(17); u8(0); u16(0x0001); u32(r()); // fragment, offset 0, more
        udp(16); break;
      case 'icmpv6': u16(0x86dd); ipv6(58, 16); u8(128); u8(0); u16(0); u32(r()); u32(r()); u32(r()); break;
      case 'arp': u16(0x0806); u16(1); u16(0x0800); u8(6); u8(4); u16(1); u16(0x0200); u32(hs()); u32(0x0a000001); u32(0); u16(0); u32(0x0a000000 | (hd() & 0xff)); break;
      case 'icmp': u16(0x0800); ipv4(1, 16); u8(8); u8(0); u16(0); u32(r()); u32(r()); u32(r()); break;
      case 'ipv4-opts-udp': u16(0x0800); ipv4(17, 26, 1); udp(18); break;
      case 'ipv4-frag': u16(0x0800); ipv4(17, 40, 0, 0x2000 | (1 + (r() % 100))); for (let k = 0; k < 40; k++) u8(k); break;
    }
    offsets[i] = p - base;
    lengths[i] = o - p;
    kinds[i] = kind;
    at = (o + 15) & ~15;
  }
  return { count, offsets, lengths, bytes: at - base, kinds };
}
