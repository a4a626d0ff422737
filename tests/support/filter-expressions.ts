// The filter expressions the differential and the CLI tests judge: hosts, nets with masks, ports
// and ranges, protocols, stacked VLANs, IPv6, TCP flags, byte-offset arithmetic with every ALU
// operation libpcap emits, lengths, boolean structure, and a few libpcap refuses.
export const EXPRESSIONS = [
  // hosts and nets
  'host 192.168.1.1', 'src host 10.0.0.1', 'dst host 10.0.0.2 or dst host 192.168.0.1', 'net 192.168.0.0/16',
  'net 10.0.0.0 mask 255.0.0.0', 'src net 172.16.0.0/12', 'dst net 224.0.0.0/4', 'ip6 net fe80::/10',
  'host fe80::1 or ip6 dst net ff02::/16', 'ip host 127.0.0.1',
  // ports and ranges
  'port 53', 'src port 80', 'dst port 443', 'tcp port 80', 'udp port 53', 'portrange 1-1023',
  'tcp portrange 6000-7000', 'udp src portrange 1024-65535', 'tcp dst port 22 or udp dst port 123', 'udp port 67 or udp port 68',
  'ip6 and udp port 546', 'sctp port 5060',
  // protocols
  'tcp', 'udp', 'icmp', 'icmp6', 'arp', 'rarp', 'ip', 'ip6', 'sctp', 'ip proto 47', 'ip6 and tcp', 'mpls', 'pppoes',
  'llc', 'stp', 'ip multicast', 'ip6 multicast', 'ip broadcast', 'geneve',
  // VLAN, also stacked
  'vlan', 'vlan 100', 'vlan and vlan', 'vlan and vlan and ip', 'vlan and udp', 'not vlan', 'vlan and not vlan 10', 'vlan and host 10.0.0.1',
  'vlan and vlan and vlan', 'vlan 10 and vlan 100 and udp port 53', 'vlan 1 and vlan 2 and ip6 and tcp port 80', 'vlan and vlan and arp',
  // header bytes and arithmetic
  'tcp[tcpflags] & tcp-syn != 0', 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn', 'tcp[tcpflags] & tcp-rst != 0', 'tcp[tcpflags] == 0x12',
  'tcp[13] = 0x18', 'ip[6:2] & 0x1fff = 0', 'ip[6:2] & 0x1fff != 0', 'ip[0] & 0xf > 5', 'ip[2:2] > 576', 'ip[8] < 64',
  'ip[9] = 6 and ip[6:2] & 0x3fff = 0', 'tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420', 'ip and (ip[2:2] - ((ip[0]&0xf)<<2)) > 100',
  'udp[4:2] > 100', 'ip6[6] = 17', 'icmp[icmptype] = icmp-echo', 'icmp[icmptype] == icmp-echoreply or icmp[icmptype] == icmp-unreach',
  'len % 3 == 1', 'len / 4 > 100', 'ip[1] * 3 > 10', 'ip[2:2] ^ 0xff > 300', 'tcp[0:2] - tcp[2:2] > 0', 'ip[8] | 1 = 1 or udp[0] & 2 != 0',
  'ip[2:2] >> 3 = 20', 'ip[2:2] << 1 > 1000', 'ether[0] & 1 != 0',
  // link layer
  'ether broadcast', 'ether multicast', 'ether host ff:ff:ff:ff:ff:ff', 'ether proto 0x88cc', 'ether src 00:00:00:00:00:00 or ether dst 01:80:c2:00:00:00',
  // lengths
  'greater 1000', 'less 64', 'len > 100 and len < 300',
  // boolean structure
  'not ip', 'not tcp and not udp', 'tcp or udp', '(tcp port 80 or tcp port 443) and not host 10.0.0.1', 'ip and not (udp port 53)',
  'not (ip or ip6 or arp)', 'udp and (port 53 or port 5353) and not src net 10.0.0.0/8',
  // errors libpcap gives
  'udp prot 53', 'host', 'tcp[100000000:4] = 0',
];
