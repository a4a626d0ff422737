// The libpcap-bpf_filter peer of the capture bench: libpcap's own BPF interpreter over the frames
// the bench wrote, for each expression compiled by pcap_compile on the file's handle (the same
// program wirewasm translates). Prints {"pps":[per run: frames x expressions / s],"accepted":[per
// expression]} so the bench can check both judged the frames alike. pps counts CPU time (the
// machines this runs on are shared; a process waiting for a core is not charged), "wall" wall time.
//
// usage: bpf-filter CAPTURE EXPRESSIONS_FILE RUNS [HOT]   (built by the bench: cc -O2 ... -lpcap)
// With HOT, each run judges as many frames as the file holds, cycling over its first HOT frames
// (cache-resident: the interpreter's own cost, not the memory's).
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) return fprintf(stderr, "usage: bpf-filter CAPTURE EXPRESSIONS_FILE RUNS [HOT]\n"), 2;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t *p = pcap_open_offline(argv[1], err);
  if (!p) return fprintf(stderr, "%s\n", err), 1;
  size_t n = 0, cap = 0;
  struct pcap_pkthdr *hdrs = NULL;
  u_char **data = NULL;
  struct pcap_pkthdr *h;
  const u_char *d;
  while (pcap_next_ex(p, &h, &d) == 1) {
    if (n == cap) {
      cap = cap ? cap * 2 : 4096;
      hdrs = realloc(hdrs, cap * sizeof *hdrs);
      data = realloc(data, cap * sizeof *data);
    }
    hdrs[n] = *h;
    data[n] = malloc(h->caplen + 1);
    memcpy(data[n], d, h->caplen);
    n++;
  }
  FILE *ef = fopen(argv[2], "r");
  if (!ef) return perror(argv[2]), 1;
  struct bpf_program progs[64];
  size_t np = 0;
  char line[1024];
  while (np < 64 && fgets(line, sizeof line, ef)) {
    line[strcspn(line, "\n")] = 0;
    if (pcap_compile(p, &progs[np], line, 1, 0) != 0) return fprintf(stderr, "%s: %s\n", line, pcap_geterr(p)), 1;
    np++;
  }
  int runs = atoi(argv[3]);
  size_t hot = argc == 5 ? (size_t)atol(argv[4]) : n;
  if (hot == 0 || hot > n) hot = n;
  size_t accepted[64] = {0};
  double *cpu = calloc(runs, sizeof *cpu), *wall = calloc(runs, sizeof *wall);
  for (int r = 0; r < runs; r++) {
    double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
    for (size_t e = 0; e < np; e++) {
      size_t a = 0;
      for (size_t i = 0, j = 0; i < n; i++, j = j + 1 == hot ? 0 : j + 1) a += bpf_filter(progs[e].bf_insns, data[j], hdrs[j].len, hdrs[j].caplen) != 0;
      accepted[e] = a;
    }
    cpu[r] = (double)n * np / (now(CLOCK_PROCESS_CPUTIME_ID) - c0);
    wall[r] = (double)n * np / (now(CLOCK_MONOTONIC) - w0);
  }
  printf("{\"pps\":[");
  for (int r = 0; r < runs; r++) printf("%s%.0f", r ? "," : "", cpu[r]);
  printf("],\"wall\":[");
  for (int r = 0; r < runs; r++) printf("%s%.0f", r ? "," : "", wall[r]);
  printf("],\"accepted\":[");
  for (size_t e = 0; e < np; e++) printf("%s%zu", e ? "," : "", accepted[e]);
  printf("]}\n");
  return 0;
}
