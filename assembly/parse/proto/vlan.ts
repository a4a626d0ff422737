// IEEE 802.1Q VLAN tag and 802.1ad (QinQ) service tag. IEEE 802.1Q-2018 clause 9.
// A tag sits where the EtherType was; its TPID is that EtherType (0x8100, 0x88a8, 0x9100).
//
//  0               2               4
//  +---------------+---------------+
//  | PCP|D|  VID   | next type     |   TCI: priority (3 bits), drop eligible (1), VLAN id (12)
//  +---------------+---------------+

import { ETHERTYPE_QINQ, ETHERTYPE_QINQ_9100, ETHERTYPE_QINQ_9200, ETHERTYPE_VLAN } from './ethernet';

export const VLAN_TCI: usize = 0;
export const VLAN_TYPE: usize = 2;
export const VLAN_TAG_LEN: u32 = 4;
export const VLAN_VID_MASK: u32 = 0x0fff;
/** The tag stack walk is bounded: more tags than this sets ERR_DEPTH. */
export const VLAN_MAX_DEPTH: u32 = 8;

@inline export function isVlanTpid(type: u32): bool {
  return type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_9100 || type == ETHERTYPE_QINQ_9200;
}
