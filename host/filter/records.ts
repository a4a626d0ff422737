// A filter expression over capture records (dissect, capture's files): each batch is copied into a
// small memory of the filter's own and judged in one filterBurst call per link type in it. The
// expression is compiled for each link type as it first appears, as libpcap would compile it for
// that interface, so a pcapng file whose interfaces have several link types is judged right.
//
// Memory (shared, grown when a batch needs more):
//   | 0 list: n u32 record addresses | meta: n × 16 B (data, caplen, wirelen, 0) | verdicts: n u32 | frame bytes… |
import type { CaptureRecord } from '../pcap/index.js';
import { DEFAULT_SNAPLEN } from './compile.js';
import { Filter, type FilterInstance } from './filter.js';

const META_BYTES = 16;
const PAGE = 65536;

export class RecordFilter {
  private readonly byLinktype = new Map<number, FilterInstance>();
  private readonly memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });

  constructor(
    readonly expression: string,
    private readonly snaplen = DEFAULT_SNAPLEN,
  ) {}

  /** The compiled filter for one link type; throws FilterError (libpcap's message) when it does not compile for it. */
  private instance(linktype: number): FilterInstance {
    let f = this.byLinktype.get(linktype);
    if (!f) {
      f = Filter.compile(this.expression, { linktype, snaplen: this.snaplen }).instantiate(this.memory);
      this.byLinktype.set(linktype, f);
    }
    return f;
  }

  /** The indexes, in order, of the records the expression accepts. */
  accepted(records: readonly CaptureRecord[]): number[] {
    const n = records.length;
    if (n === 0) return [];
    const metaAt = 4 * n;
    const verdictsAt = metaAt + META_BYTES * n;
    let need = verdictsAt + 4 * n;
    for (const r of records) need += r.data.length;
    const have = this.memory.buffer.byteLength;
    if (need > have) this.memory.grow(Math.ceil((need - have) / PAGE));
    const buf = this.memory.buffer;
    const u8 = new Uint8Array(buf);
    const u32 = new Uint32Array(buf);
    let at = verdictsAt + 4 * n;
    records.forEach((r, i) => {
      u8.set(r.data, at);
      const m = (metaAt + META_BYTES * i) >> 2;
      u32[m] = at;
      u32[m + 1] = r.data.length;
      u32[m + 2] = Math.max(r.wireLength, r.data.length);
      at += r.data.length;
    });
    const verdict = new Uint8Array(n);
    for (const linktype of new Set(records.map((r) => r.linktype))) {
      let k = 0;
      records.forEach((r, i) => {
        if (r.linktype === linktype) u32[k++] = metaAt + META_BYTES * i;
      });
      this.instance(linktype).filterBurst(0, k, 0, verdictsAt);
      k = 0;
      records.forEach((r, i) => {
        if (r.linktype === linktype) verdict[i] = u32[(verdictsAt >> 2) + k++] !== 0 ? 1 : 0;
      });
    }
    const out: number[] = [];
    verdict.forEach((v, i) => v && out.push(i));
    return out;
  }
}
