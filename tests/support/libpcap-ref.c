// The reference the filter tests compare wirewasm against: libpcap itself, reading the captures
// with pcap_open_offline, compiling on that handle and judging with pcap_offline_filter, or
// running raw programs with bpf_filter. Built by the tests with `cc -O2 ... -lpcap`; shares no
// code with wirewasm. Expressions are compiled as tcpdump compiles them for a file: optimised,
// netmask 0.
//
// libpcap-ref files EXPRESSIONS_FILE CAPTURE...    (one expression per line)
//   per capture:     "F <path> <dlt> <snaplen> <frames>"   or  "E <path> <open error>"
//                    "T <read error>" when the file ends in damage (after the frames before it)
//                    "L <caplen>/<len>,..." the lengths libpcap gives each frame
//   per expression:  "C <index> <compile error>"  or  "A <index> <accepted count> <i:verdict,...>"
//
// libpcap-ref bpf < programs > verdicts    (binary, host byte order)
//   in:  repeated { u32 insns; struct bpf_insn[insns]; u32 frames; { u32 wirelen; u32 caplen; u8[caplen] }[frames] }
//   out: per program { i32 bpf_validate(); u32 bpf_filter()[frames] } (verdicts only when valid)
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int files(int argc, char **argv) {
  FILE *ef = fopen(argv[2], "r");
  if (!ef) return perror(argv[2]), 2;
  char **exprs = NULL;
  size_t nexpr = 0;
  char line[4096];
  while (fgets(line, sizeof line, ef)) {
    line[strcspn(line, "\n")] = 0;
    exprs = realloc(exprs, (nexpr + 1) * sizeof *exprs);
    exprs[nexpr++] = strdup(line);
  }
  fclose(ef);
  for (int f = 3; f < argc; f++) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(argv[f], err);
    if (!p) {
      printf("E %s %s\n", argv[f], err);
      continue;
    }
    size_t n = 0, cap = 0;
    struct pcap_pkthdr *hdrs = NULL;
    u_char **data = NULL;
    struct pcap_pkthdr *h;
    const u_char *d;
    int r;
    while ((r = pcap_next_ex(p, &h, &d)) == 1) {
      if (n == cap) {
        cap = cap ? cap * 2 : 256;
        hdrs = realloc(hdrs, cap * sizeof *hdrs);
        data = realloc(data, cap * sizeof *data);
      }
      hdrs[n] = *h;
      data[n] = malloc(h->caplen ? h->caplen : 1);
      memcpy(data[n], d, h->caplen);
      n++;
    }
    printf("F %s %d %d %zu\n", argv[f], pcap_datalink(p), pcap_snapshot(p), n);
    if (r == -1) printf("T %s\n", pcap_geterr(p));
    printf("L");
    for (size_t i = 0; i < n; i++) printf(i ? ",%u/%u" : " %u/%u", hdrs[i].caplen, hdrs[i].len);
    printf("\n");
    for (size_t e = 0; e < nexpr; e++) {
      struct bpf_program prog;
      if (pcap_compile(p, &prog, exprs[e], 1, 0) != 0) {
        printf("C %zu %s\n", e, pcap_geterr(p));
        continue;
      }
      size_t accepted = 0;
      for (size_t i = 0; i < n; i++) accepted += pcap_offline_filter(&prog, &hdrs[i], data[i]) != 0;
      printf("A %zu %zu ", e, accepted);
      for (size_t i = 0, first = 1; i < n; i++) {
        int v = pcap_offline_filter(&prog, &hdrs[i], data[i]);
        if (v) printf(first ? "%zu:%d" : ",%zu:%d", i, v), first = 0;
      }
      printf("\n");
      pcap_freecode(&prog);
    }
    for (size_t i = 0; i < n; i++) free(data[i]);
    free(hdrs);
    free(data);
    pcap_close(p);
  }
  return 0;
}

static int readall(void *buf, size_t len) { return fread(buf, 1, len, stdin) == len; }

static int bpf(void) {
  uint32_t ninsn;
  static u_char frame[65536 + 64];
  while (readall(&ninsn, 4)) {
    struct bpf_insn *insns = malloc(ninsn * sizeof *insns + 1);
    uint32_t nframes;
    if (!readall(insns, ninsn * sizeof *insns) || !readall(&nframes, 4)) return 3;
    int32_t valid = bpf_validate(insns, (int)ninsn);
    fwrite(&valid, 4, 1, stdout);
    for (uint32_t i = 0; i < nframes; i++) {
      uint32_t wirelen, caplen;
      if (!readall(&wirelen, 4) || !readall(&caplen, 4) || caplen > 65536 || !readall(frame, caplen)) return 3;
      if (!valid) continue;
      uint32_t v = bpf_filter(insns, frame, wirelen, caplen);
      fwrite(&v, 4, 1, stdout);
    }
    free(insns);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "files")) return files(argc, argv);
  if (argc == 2 && !strcmp(argv[1], "bpf")) return bpf();
  fprintf(stderr, "usage: libpcap-ref files EXPRESSIONS_FILE CAPTURE... | libpcap-ref bpf < programs\n");
  return 2;
}
