// The c-O2 peer of the parse bench: the extraction of assembly/parse/parse.ts in C (same layers, same
// bounds checks, same 64-byte metadata records, same bit values), built by the bench with
// `cc -O2` as the native ceiling. Reads the corpus the bench wrote, parses it in bursts of 256
// records, and prints {"full":[pps..],"hot":[pps..],"digest":N}; the digest over every record's
// fields lets the bench check that C and WASM extracted the same thing.
//
// usage: parse CORPUS RUNS
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  uint32_t data, caplen, wirelen, ptype;
  uint64_t ts;
  uint16_t l2, l3, l4, payload, inner_l3, inner_l4, vlan0, vlan1;
  uint32_t hash, errors;
  uint16_t queue, linktype;
  uint32_t mark, refcnt, next;
} meta_t;
_Static_assert(sizeof(meta_t) == 64, "meta is one cache line");

static uint8_t *base;

#define BE16(p) __builtin_bswap16(*(const uint16_t *)(p))
#define BE32(p) __builtin_bswap32(*(const uint32_t *)(p))
#define OUT(pt, err) (((uint64_t)(err) << 32) | (uint32_t)(pt))

enum { TRUNC_L2 = 1, TRUNC_L3 = 2, TRUNC_L4 = 4, TRUNC_TUNNEL = 8, TRUNC_INNER = 16, FRAGMENT = 0x80, UNKNOWN_L3 = 0x100, UNKNOWN_L4 = 0x200,
       BAD_L3 = 0x400, BAD_L4 = 0x800, DEPTH = 0x1000, LEN_CAPLEN = 0x8000 };

static inline int is_vlan(uint32_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100 || t == 0x9200; }

static uint64_t parse_l4(meta_t *m, const uint8_t *d, uint32_t off, uint32_t end, uint32_t proto, int inner);

static uint64_t parse_ipv4(meta_t *m, const uint8_t *d, uint32_t off, uint32_t end, int inner) {
  if (off + 20 > end) return OUT(0, TRUNC_L3);
  const uint8_t *p = d + off;
  uint32_t hlen = (p[0] & 15) << 2;
  if ((p[0] >> 4) != 4 || hlen < 20) return OUT(0, BAD_L3);
  if (off + hlen > end) return OUT(0, TRUNC_L3);
  if (inner) m->inner_l3 = off; else m->l3 = off;
  uint32_t pt = hlen == 20 ? 0x10 : 0x30, err = 0;
  uint32_t total = BE16(p + 2), stop = off + total;
  if (total < hlen) err = BAD_L3, stop = end;
  else if (stop > end) err = LEN_CAPLEN, stop = end;
  uint32_t frag = BE16(p + 6);
  if (frag & 0x3fff) {
    err |= FRAGMENT;
    if (frag & 0x1fff) { m->payload = off + hlen; return OUT(pt | 0x300, err); }
  }
  return parse_l4(m, d, off + hlen, stop, p[9], inner) | OUT(pt, err);
}

static inline int ext8(uint32_t nh) { return nh == 0 || nh == 43 || nh == 60 || nh == 135; }

static uint64_t parse_ipv6(meta_t *m, const uint8_t *d, uint32_t off, uint32_t end, int inner) {
  if (off + 40 > end) return OUT(0, TRUNC_L3);
  const uint8_t *p = d + off;
  if ((p[0] >> 4) != 6) return OUT(0, BAD_L3);
  if (inner) m->inner_l3 = off; else m->l3 = off;
  uint32_t err = 0, plen = BE16(p + 4), stop = off + 40 + plen, nh = p[6], q = off + 40, pt = 0x40;
  if (plen == 0 && nh == 0) stop = end;
  else if (stop > end) err = LEN_CAPLEN, stop = end;
  for (uint32_t depth = 0;; depth++) {
    uint32_t len;
    if (ext8(nh)) {
      if (q + 8 > stop) return OUT(pt, err | TRUNC_L3);
      len = (d[q + 1] + 1) << 3;
    } else if (nh == 44) {
      if (q + 8 > stop) return OUT(pt, err | TRUNC_L3);
      err |= FRAGMENT;
      if (BE16(d + q + 2) & 0xfff8) { m->payload = q + 8; return OUT(0xc0 | 0x300, err); }
      len = 8;
    } else if (nh == 51) {
      if (q + 8 > stop) return OUT(pt, err | TRUNC_L3);
      len = (d[q + 1] + 2) << 2;
    } else break;
    if (depth == 8) return OUT(pt, err | DEPTH);
    if (q + len > stop) return OUT(0xc0, err | TRUNC_L3);
    nh = d[q];
    q += len;
    pt = 0xc0;
  }
  return parse_l4(m, d, q, stop, nh, inner) | OUT(pt, err);
}

static uint64_t parse_inner_ip(meta_t *m, const uint8_t *d, uint32_t off, uint32_t end, uint32_t type) {
  uint64_t r;
  if (type == 0x0800) r = parse_ipv4(m, d, off, end, 1);
  else if (type == 0x86dd) r = parse_ipv6(m, d, off, end, 1);
  else return 0;
  uint32_t pt = (uint32_t)r, err = (uint32_t)(r >> 32), l3 = pt & 0xf0;
  uint32_t il3 = l3 == 0x10 ? 0x100000 : l3 == 0x30 ? 0x200000 : l3 == 0x40 ? 0x300000 : l3 == 0xc0 ? 0x500000 : 0;
  if (err & (TRUNC_L3 | TRUNC_L4)) err = (err & ~(TRUNC_L3 | TRUNC_L4)) | TRUNC_INNER;
  return OUT(il3 | ((pt & 0xf00) << 16), err);
}

static uint64_t parse_inner_eth(meta_t *m, const uint8_t *d, uint32_t off, uint32_t end) {
  if (off + 14 > end) return OUT(0, TRUNC_INNER);
  uint32_t type = BE16(d + off + 12), l2 = 0x10000;
  off += 14;
  for (uint32_t depth = 0; is_vlan(type); depth++) {
    if (depth == 8) return OUT(l2, DEPTH);
    if (off + 4 > end) return OUT(l2, TRUNC_INNER);
    type = BE16(d + off + 2);
    off += 4;
    l2 = depth == 0 ? 0x20000 : 0x30000;
  }
  m->payload = off;
  return parse_inner_ip(m, d, off, end, type) | l2;
}

static uint64_t parse_l4(meta_t *m, const uint8_t *d, uint32_t off, uint32_t end, uint32_t proto, int inner) {
  const uint8_t *p = d + off;
  if (proto == 6) {
    if (off + 20 > end) return OUT(0, TRUNC_L4);
    if (inner) m->inner_l4 = off; else m->l4 = off;
    uint32_t hlen = (p[12] >> 4) << 2;
    if (hlen < 20) return OUT(0x100, BAD_L4);
    if (off + hlen > end) return OUT(0x100, TRUNC_L4);
    m->payload = off + hlen;
    return 0x100;
  }
  if (proto == 17) {
    if (off + 8 > end) return OUT(0, TRUNC_L4);
    if (inner) m->inner_l4 = off; else m->l4 = off;
    m->payload = off + 8;
    if (!inner) {
      uint32_t dport = BE16(p + 2);
      if (dport == 4789) {
        if (off + 16 > end) return OUT(0x200, TRUNC_TUNNEL);
        m->payload = off + 16;
        return 0x200 | 0x3000 | parse_inner_eth(m, d, off + 16, end);
      }
      if (dport == 6081) {
        if (off + 16 > end) return OUT(0x200, TRUNC_TUNNEL);
        uint32_t h = 8 + ((d[off + 8] & 0x3f) << 2);
        if (off + 8 + h > end) return OUT(0x200 | 0x9000, TRUNC_TUNNEL);
        m->payload = off + 8 + h;
        uint32_t t = BE16(d + off + 10);
        return 0x200 | 0x9000 | (t == 0x6558 ? parse_inner_eth(m, d, off + 8 + h, end) : parse_inner_ip(m, d, off + 8 + h, end, t));
      }
    }
    return 0x200;
  }
  if (proto == 1 || proto == 58) {
    if (off + 4 > end) return OUT(0, TRUNC_L4);
    if (inner) m->inner_l4 = off; else m->l4 = off;
    if (off + 8 <= end) m->payload = off + 8;
    return 0x500;
  }
  if (proto == 132 || proto == 2) {
    uint32_t hlen = proto == 132 ? 12 : 8;
    if (off + hlen > end) return OUT(0, TRUNC_L4);
    if (inner) m->inner_l4 = off; else m->l4 = off;
    m->payload = off + hlen;
    return proto == 132 ? 0x400 : 0x700;
  }
  m->payload = off;
  if (!inner) {
    if (proto == 47) {
      if (off + 4 > end) return OUT(0, TRUNC_TUNNEL);
      m->l4 = off;
      uint32_t f = BE16(p), h = 4 + ((f & 0xc000) ? 4 : 0) + ((f & 0x2000) ? 4 : 0) + ((f & 0x1000) ? 4 : 0);
      if (off + h > end) return OUT(0x2000, TRUNC_TUNNEL);
      m->payload = off + h;
      if (f & 7) return 0x2000;
      uint32_t t = BE16(p + 2);
      if (t == 0x6558) return 0x2000 | parse_inner_eth(m, d, off + h, end);
      return 0x2000 | parse_inner_ip(m, d, off + h, end, t);
    }
    if (proto == 4 || proto == 41) {
      m->l4 = off;
      return 0x1000 | parse_inner_ip(m, d, off, end, proto == 4 ? 0x0800 : 0x86dd);
    }
  } else if (proto == 47 || proto == 4 || proto == 41) return 0;
  if (proto == 59) return 0;
  return OUT(0, UNKNOWN_L4);
}

static uint64_t parse_l3(meta_t *m, const uint8_t *d, uint32_t off, uint32_t caplen, uint32_t type, uint32_t l2) {
  uint64_t r;
  if (type == 0x0800) r = parse_ipv4(m, d, off, caplen, 0);
  else if (type == 0x86dd) r = parse_ipv6(m, d, off, caplen, 0);
  else if (type == 0x0806 || type == 0x8035) {
    if (off + 8 > caplen) r = OUT(0, TRUNC_L3);
    else {
      m->l3 = off;
      uint32_t len = 8 + ((d[off + 4] + d[off + 5]) << 1);
      if (off + len > caplen) r = OUT(0, TRUNC_L3);
      else m->payload = off + len, r = 0;
    }
  } else {
    m->payload = off;
    r = OUT(0, UNKNOWN_L3);
  }
  return r | l2;
}

static uint32_t parse_frame(meta_t *m) {
  const uint8_t *d = base + m->data;
  uint32_t caplen = m->caplen;
  memset(&m->l2, 0xff, 16);
  m->hash = 0;
  m->errors = 0;
  uint64_t r;
  if (m->linktype != 1) r = OUT(0, 0x2000);
  else if (caplen < 14) r = OUT(0, TRUNC_L2);
  else {
    m->l2 = 0;
    uint32_t type = BE16(d + 12), off = 14, l2 = 1;
    r = UINT64_MAX;
    if (is_vlan(type)) {
      uint32_t depth = 0;
      do {
        if (depth == 8) { r = OUT(7, DEPTH); break; }
        if (off + 4 > caplen) { r = OUT(l2, TRUNC_L2); break; }
        uint32_t vid = BE16(d + off) & 0xfff;
        if (depth == 0) m->vlan0 = vid; else if (depth == 1) m->vlan1 = vid;
        type = BE16(d + off + 2);
        off += 4;
        depth++;
        l2 = depth == 1 ? 6 : 7;
      } while (is_vlan(type));
    }
    if (r == UINT64_MAX) {
      if (type < 0x0600) {
        uint32_t l2l = l2 == 1 ? 0xb : l2;
        if (off + 3 > caplen) r = OUT(l2l, TRUNC_L2);
        else if (d[off] == 0xaa && d[off + 1] == 0xaa && d[off + 2] == 3) {
          if (off + 8 > caplen) r = OUT(l2l, TRUNC_L2);
          else if ((*(const uint32_t *)(d + off) & 0xffffff00) == 0) r = parse_l3(m, d, off + 8, caplen, BE16(d + off + 6), l2l);
          else m->payload = off + 8, r = OUT(l2l, UNKNOWN_L3);
        } else m->payload = off + 3, r = OUT(l2l, UNKNOWN_L3);
      } else {
        if (type == 0x0806 && l2 == 1) l2 = 3;
        if (type == 0x88cc && l2 == 1) m->payload = off, r = 4;
        else r = parse_l3(m, d, off, caplen, type, l2);
      }
    }
  }
  m->ptype = (uint32_t)r;
  m->errors = (uint32_t)(r >> 32);
  return m->ptype;
}

static uint32_t parse_burst(meta_t *metas, uint32_t n) {
  uint32_t bad = 0;
  for (uint32_t i = 0; i < n; i++) {
    parse_frame(&metas[i]);
    bad += metas[i].errors != 0;
  }
  return bad;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/** The same digest the bench computes over the WASM parser's records. */
static uint32_t digest(const meta_t *m, uint32_t n) {
  uint32_t h = 0;
  for (uint32_t i = 0; i < n; i++) {
    const uint32_t *w = (const uint32_t *)&m[i];
    h = h * 31 + w[3];
    for (int k = 6; k < 12; k++) h = h * 31 + w[k];
  }
  return h;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s CORPUS RUNS\n", argv[0]); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  uint32_t hdr[3];
  if (fread(hdr, 4, 3, f) != 3) return 1;
  uint32_t count = hdr[1], bytes = hdr[2];
  uint32_t *offsets = malloc(count * 4);
  uint16_t *lengths = malloc(count * 2);
  base = aligned_alloc(64, (bytes + 4096 + 63) & ~63u);
  meta_t *metas = aligned_alloc(64, (size_t)count * 64);
  // Offset 0 is never a frame (as in the shared memory): frames start at 4096.
  if (fread(offsets, 4, count, f) != count || fread(lengths, 2, count, f) != count || fread(base + 4096, 1, bytes, f) != bytes) return 1;
  fclose(f);
  memset(metas, 0, (size_t)count * 64);
  for (uint32_t i = 0; i < count; i++) metas[i].data = 4096 + offsets[i], metas[i].caplen = metas[i].wirelen = lengths[i], metas[i].linktype = 1;
  int runs = atoi(argv[2]);
  const uint32_t burst = 256, hotN = 8192;
  // One untimed pass: the WASM peer is measured after a warm-up pass too.
  for (uint32_t i = 0; i < count; i += burst) parse_burst(metas + i, count - i < burst ? count - i : burst);
  printf("{\"full\":[");
  for (int r = 0; r < runs; r++) {
    double t0 = now();
    for (uint32_t i = 0; i < count; i += burst) parse_burst(metas + i, count - i < burst ? count - i : burst);
    printf("%s%.0f", r ? "," : "", count / (now() - t0));
  }
  uint32_t dg = digest(metas, count);
  printf("],\"hot\":[");
  for (int r = 0; r < runs; r++) {
    double t0 = now();
    uint32_t done = 0;
    while (done < count) {
      for (uint32_t i = 0; i < hotN && done < count; i += burst, done += burst) parse_burst(metas + i, burst);
    }
    printf("%s%.0f", r ? "," : "", done / (now() - t0));
  }
  printf("],\"digest\":%u}\n", dg);
  return 0;
}
