import { parseFrame, parseBurst, tcpOption } from './parse';
import { ipv6UpperProtocol } from './proto/ipv6';
import { META_BYTES, META_ERRORS, META_HASH, META_INNER_L3, META_INNER_L4, META_L2, META_L3, META_L4, META_PAYLOAD, META_PTYPE, META_VLAN0, META_VLAN1 } from '../meta';
import * as P from './ptype';
import { metaFor, metaForPrefix, hexLen } from '../testing/frames.include';

// Real-shaped frames. MACs 00:11:22:33:44:55 -> 66:77:88:99:aa:bb.
const ETH = '66778899aabb 001122334455';
// IPv4 10.0.0.1 -> 10.0.0.2, TTL 64, valid header checksum; total length 40 with TCP (20) below.
const IPV4_TCP = '4500 0028 1234 4000 4006 149a 0a000001 0a000002';
const TCP_SYN = '3039 0050 00000001 00000000 5002 ffff 0000 0000';
const IPV4_UDP = '4500 001c 0001 0000 4011 66ce 0a000001 0a000002';
const UDP = '1388 0035 0008 0000';

function pt(m: usize): u32 { return load<u32>(m, META_PTYPE); }
function err(m: usize): u32 { return load<u32>(m, META_ERRORS); }
function off(m: usize, f: usize): u32 { return <u32>load<u16>(m + f); }

describe('Ethernet / IPv4 / TCP', () => {
  it('fills ptype and the layer offsets', () => {
    const m = metaFor(ETH + '0800' + IPV4_TCP + TCP_SYN, 1);
    expect(parseFrame(m, 0, 0)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV4 | P.PTYPE_L4_TCP);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV4 | P.PTYPE_L4_TCP);
    expect(off(m, META_L2)).toBe(0);
    expect(off(m, META_L3)).toBe(14);
    expect(off(m, META_L4)).toBe(34);
    expect(off(m, META_PAYLOAD)).toBe(54);
    expect(off(m, META_INNER_L3)).toBe(0xffff);
    expect(off(m, META_INNER_L4)).toBe(0xffff);
    expect(off(m, META_VLAN0)).toBe(0xffff);
    expect(err(m)).toBe(0);
    expect(load<u32>(m, META_HASH)).toBe(0);
  });
  it('ignores Ethernet padding after the IP total length', () => {
    const m = metaFor(ETH + '0800' + IPV4_UDP + UDP + '000000000000000000000000000000000000', 1);
    parseFrame(m, P.PARSE_VERIFY_CSUM, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV4 | P.PTYPE_L4_UDP);
    expect(err(m)).toBe(P.ERR_CSUM_CHECKED);
  });
  it('flags a wrong IPv4 header checksum only when verification is on', () => {
    const bad = ETH + '0800' + '4500 0028 1234 4000 4006 149b 0a000001 0a000002' + TCP_SYN;
    const m = metaFor(bad, 1);
    parseFrame(m, 0, 0);
    expect(err(m)).toBe(0);
    parseFrame(m, P.PARSE_VERIFY_CSUM, 0);
    expect(err(m) & P.ERR_BAD_IP_CSUM).toBe(P.ERR_BAD_IP_CSUM);
    const good = metaFor(ETH + '0800' + IPV4_TCP + TCP_SYN, 1);
    parseFrame(good, P.PARSE_VERIFY_CSUM, 0);
    expect(err(good) & P.ERR_BAD_IP_CSUM).toBe(0);
    parseFrame(m, P.PARSE_VERIFY_CSUM | P.PARSE_SIMD, 0);
    expect(err(m) & P.ERR_BAD_IP_CSUM).toBe(P.ERR_BAD_IP_CSUM);
  });
  it('IPv4 options give IPV4_EXT and move L4', () => {
    // IHL 6: one 4-byte option (NOP NOP NOP EOL).
    const m = metaFor(ETH + '0800' + '4600 002c 0001 0000 4011 0000 0a000001 0a000002 01010100' + UDP, 1);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV4_EXT | P.PTYPE_L4_UDP);
    expect(off(m, META_L4)).toBe(38);
  });
});

describe('truncation is a flag', () => {
  it('at every cut of an Ethernet/IPv4/TCP frame, flags the layer it stopped in', () => {
    const hex = ETH + '0800' + IPV4_TCP + TCP_SYN;
    const n = hexLen(hex);
    for (let cut: u32 = 0; cut < n; cut++) {
      const m = metaForPrefix(hex, cut, 1);
      parseFrame(m, P.PARSE_VERIFY_CSUM, 0);
      const e = err(m);
      if (cut < 14) expect(e & P.ERR_TRUNC_L2).toBe(P.ERR_TRUNC_L2);
      else if (cut < 34) {
        expect(e & P.ERR_TRUNC_L3).toBe(P.ERR_TRUNC_L3);
        expect(off(m, META_L3)).toBe(0xffff);
      } else {
        expect(e & P.ERR_TRUNC_L4).toBe(P.ERR_TRUNC_L4);
        expect(e & P.ERR_L3_LEN_CAPLEN).toBe(P.ERR_L3_LEN_CAPLEN);
        expect(off(m, META_L3)).toBe(14);
      }
    }
  });
});

describe('VLAN tag stacks', () => {
  it('802.1Q: one id, VLAN ptype', () => {
    const m = metaFor(ETH + '8100 2064 0800' + IPV4_UDP + UDP, 1);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER_VLAN | P.PTYPE_L3_IPV4 | P.PTYPE_L4_UDP);
    expect(off(m, META_VLAN0)).toBe(100);
    expect(off(m, META_VLAN1)).toBe(0xffff);
    expect(off(m, META_L3)).toBe(18);
  });
  it('QinQ 88a8 + 8100: outer and inner ids', () => {
    const m = metaFor(ETH + '88a8 0fff 8100 0005 0800' + IPV4_TCP + TCP_SYN, 1);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER_QINQ | P.PTYPE_L3_IPV4 | P.PTYPE_L4_TCP);
    expect(off(m, META_VLAN0)).toBe(4095);
    expect(off(m, META_VLAN1)).toBe(5);
    expect(off(m, META_L3)).toBe(22);
  });
  it('a tag stack deeper than the bound sets DEPTH', () => {
    let tags = '';
    for (let i = 0; i < 9; i++) tags += '8100 0001 ';
    const m = metaFor(ETH + tags + '8100 0001 0800' + IPV4_UDP + UDP, 1);
    parseFrame(m, 0, 0);
    expect(err(m) & P.ERR_DEPTH).toBe(P.ERR_DEPTH);
  });
});

describe('ARP, LLC, unknown', () => {
  it('ARP request', () => {
    const m = metaFor(ETH + '0806 0001 0800 06 04 0001 001122334455 0a000001 000000000000 0a000002', 1);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER_ARP);
    expect(off(m, META_L3)).toBe(14);
    expect(off(m, META_PAYLOAD)).toBe(42);
    expect(err(m)).toBe(0);
  });
  it('802.3 + LLC (STP) is LLC with no L3', () => {
    const m = metaFor(ETH + '0026 424203 0000 0000', 1);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER_LLC);
    expect(err(m)).toBe(P.ERR_UNKNOWN_L3);
  });
  it('an EtherType it does not decode is UNKNOWN_L3', () => {
    const m = metaFor(ETH + '88b5 0102', 1);
    parseFrame(m, 0, 0);
    expect(err(m)).toBe(P.ERR_UNKNOWN_L3);
  });
});

// IPv6 fe80::1 -> ff02::1.
const V6_ADDRS = 'fe800000000000000000000000000001 ff020000000000000000000000000001';
describe('IPv6', () => {
  it('TCP directly after the fixed header', () => {
    const m = metaFor(ETH + '86dd 60000000 0014 06 40 ' + V6_ADDRS + TCP_SYN, 1);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV6 | P.PTYPE_L4_TCP);
    expect(off(m, META_L4)).toBe(54);
    expect(ipv6UpperProtocol(m)).toBe(6);
  });
  it('hop-by-hop then fragment (first) then UDP', () => {
    const m = metaFor(ETH + '86dd 60000000 0018 00 40 ' + V6_ADDRS + '2c00 0000 0000 0000' + '1100 0001 00000007' + UDP, 1);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV6_EXT | P.PTYPE_L4_UDP);
    expect(err(m)).toBe(P.ERR_FRAGMENT);
    expect(off(m, META_L4)).toBe(70);
    expect(ipv6UpperProtocol(m)).toBe(17);
  });
  it('non-first fragment: no L4', () => {
    const m = metaFor(ETH + '86dd 60000000 0010 2c 40 ' + V6_ADDRS + '1100 0009 00000007' + UDP, 1);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV6_EXT | P.PTYPE_L4_FRAG);
    expect(off(m, META_L4)).toBe(0xffff);
    expect(ipv6UpperProtocol(m)).toBe(17);
  });
  it('ICMPv6 echo', () => {
    const m = metaFor(ETH + '86dd 60000000 0008 3a ff ' + V6_ADDRS + '8000 0000 0001 0001', 1);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV6 | P.PTYPE_L4_ICMP);
  });
});

describe('IPv4 fragments and ICMP', () => {
  it('a non-first fragment has no L4 and is flagged', () => {
    const m = metaFor(ETH + '0800 4500 001c 0001 00b9 4011 0000 0a000001 0a000002' + UDP, 1);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV4 | P.PTYPE_L4_FRAG);
    expect(err(m)).toBe(P.ERR_FRAGMENT);
    expect(off(m, META_L4)).toBe(0xffff);
  });
  it('ICMP port unreachable: L4 is the ICMP header, not the quoted UDP', () => {
    const icmp = '0303 0000 00000000' + IPV4_UDP + UDP;
    const m = metaFor(ETH + '0800 4500 0038 0002 0000 4001 0000 0a000002 0a000001' + icmp, 1);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV4 | P.PTYPE_L4_ICMP);
    expect(off(m, META_L4)).toBe(34);
    expect(off(m, META_PAYLOAD)).toBe(42);
  });
});

describe('tunnels', () => {
  it('VXLAN: outer UDP, inner Ethernet/IPv4/TCP located', () => {
    const inner = ETH + '0800' + IPV4_TCP + TCP_SYN;
    const udpLen = (8 + 8 + hexLen(inner)).toString(16).padStart(4, '0');
    const ipLen = (20 + 8 + 8 + hexLen(inner)).toString(16).padStart(4, '0');
    const m = metaFor(ETH + '0800 4500' + ipLen + '0001 0000 4011 0000 0a000001 0a000002' + 'c000 12b5' + udpLen + '0000' + '0800 0000 000064 00' + inner, 1);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV4 | P.PTYPE_L4_UDP | P.PTYPE_TUNNEL_VXLAN | P.PTYPE_INNER_L2_ETHER | P.PTYPE_INNER_L3_IPV4 | P.PTYPE_INNER_L4_TCP);
    expect(off(m, META_L4)).toBe(34);
    expect(off(m, META_INNER_L3)).toBe(50 + 14);
    expect(off(m, META_INNER_L4)).toBe(50 + 14 + 20);
    expect(off(m, META_PAYLOAD)).toBe(50 + 54);
  });
  it('GRE with key carrying IPv4/UDP', () => {
    const m = metaFor(ETH + '0800 4500 0038 0001 0000 402f 0000 0a000001 0a000002' + '2000 0800 00000007' + IPV4_UDP + UDP, 1);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV4 | P.PTYPE_TUNNEL_GRE | P.PTYPE_INNER_L3_IPV4 | P.PTYPE_INNER_L4_UDP);
    expect(off(m, META_INNER_L3)).toBe(42);
    expect(off(m, META_INNER_L4)).toBe(62);
  });
  it('IPv6 in IPv4, truncated inside the inner header: TRUNC_INNER', () => {
    const m = metaFor(ETH + '0800 4500 0030 0001 0000 4029 0000 0a000001 0a000002' + '60000000 0000 3b 40 fe80', 1);
    parseFrame(m, 0, 0);
    expect(pt(m) & P.PTYPE_TUNNEL_MASK).toBe(P.PTYPE_TUNNEL_IP);
    expect(err(m) & P.ERR_TRUNC_INNER).toBe(P.ERR_TRUNC_INNER);
  });
});

describe('link types', () => {
  it('Linux cooked v1 (SLL) with IPv4/UDP', () => {
    const m = metaFor('0000 0001 0006 001122334455 0000 0800' + IPV4_UDP + UDP, 113);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_SLL | P.PTYPE_L3_IPV4 | P.PTYPE_L4_UDP);
    expect(off(m, META_L3)).toBe(16);
  });
  it('SLL2 with IPv6/ICMPv6', () => {
    const m = metaFor('86dd 0000 00000002 0001 00 06 001122334455 0000' + '60000000 0008 3a ff ' + V6_ADDRS + '8000 0000 0001 0001', 276);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L2_SLL2 | P.PTYPE_L3_IPV6 | P.PTYPE_L4_ICMP);
    expect(off(m, META_L3)).toBe(20);
  });
  it('raw IP (101) has no L2', () => {
    const m = metaFor(IPV4_TCP + TCP_SYN, 101);
    parseFrame(m, 0, 0);
    expect(pt(m)).toBe(P.PTYPE_L3_IPV4 | P.PTYPE_L4_TCP);
    expect(off(m, META_L2)).toBe(0xffff);
    expect(off(m, META_L3)).toBe(0);
  });
  it('an unknown link type is flagged, not guessed', () => {
    const m = metaFor(IPV4_TCP, 9999);
    parseFrame(m, 0, 0);
    expect(err(m)).toBe(P.ERR_UNKNOWN_LINK);
    expect(pt(m)).toBe(0);
  });
});

describe('parseBurst', () => {
  it('parses contiguous records in one call and counts frames with errors', () => {
    const base = heap.alloc(META_BYTES * 3);
    const mb = <i32>META_BYTES;
    const frames = [ETH + '0800' + IPV4_TCP + TCP_SYN, ETH + '08', ETH + '86dd 60000000 0008 3a ff ' + V6_ADDRS + '8000 0000 0001 0001'];
    for (let i = 0; i < 3; i++) memory.copy(base + <usize>(i * mb), metaFor(frames[i], 1), META_BYTES);
    expect(parseBurst(base, 3, 0, 0)).toBe(1);
    expect(load<u32>(base, META_PTYPE)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV4 | P.PTYPE_L4_TCP);
    expect(load<u32>(base + META_BYTES, META_ERRORS)).toBe(P.ERR_TRUNC_L2);
    expect(load<u32>(base + 2 * META_BYTES, META_PTYPE)).toBe(P.PTYPE_L2_ETHER | P.PTYPE_L3_IPV6 | P.PTYPE_L4_ICMP);
  });
});

describe('TCP options', () => {
  it('finds MSS, SACK-permitted, timestamps, window scale and MPTCP; 0 when absent', () => {
    // data offset 12 (48 bytes): MSS 1460, SACK-perm, TS, NOP, WS 7, MPTCP (kind 30, len 4), EOL pad
    const opts = '020405b4 0402 080a 00000001 00000000 01 030307 1e04 0000 00000000 00000000';
    const m = metaFor(ETH + '0800 4500 0044 0001 0000 4006 0000 0a000001 0a000002' + '3039 0050 00000001 00000000 c002 ffff 0000 0000' + opts, 1);
    parseFrame(m, 0, 0);
    expect(tcpOption(m, 2)).toBe(54);
    expect(load<u16>(changetype<usize>(load<u32>(m)) + 56)).toBe(<u16>0xb405);
    expect(tcpOption(m, 4)).toBe(58);
    expect(tcpOption(m, 8)).toBe(60);
    expect(tcpOption(m, 3)).toBe(71);
    expect(tcpOption(m, 30)).toBe(74);
    expect(tcpOption(m, 5)).toBe(0);
  });
  it('stops at a malformed option length instead of walking off the header', () => {
    const m = metaFor(ETH + '0800 4500 002c 0001 0000 4006 0000 0a000001 0a000002' + '3039 0050 00000001 00000000 6002 ffff 0000 0000' + '02ff0000', 1);
    parseFrame(m, 0, 0);
    expect(tcpOption(m, 2)).toBe(0);
  });
});
