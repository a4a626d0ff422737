// c-dpdk-rx: the io bench's ceiling for the DPDK backend. The same PMD (a vdev given on the command
// line, e.g. net_af_xdp0,iface=veth0) driven the way a plain DPDK application does: an ordinary
// pktmbuf pool in EAL memory, one rx_burst loop, each packet checked and freed. Nothing of wirewasm.
//
//   dpdk-rx <vdev> <udp port> <seconds> [latency]
//
// Prints "ready <driver>" once the port runs, then one JSON line {received, cpuS, latenciesNs?,
// pmdMissed, mode}. Counted: UDP frames to <udp port> carrying the generator's payload (host/gen.ts:
// seq u64, send time u64 CLOCK_MONOTONIC ns, magic 0x5757).
#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static uint64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint16_t be16(const uint8_t* p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint64_t be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: dpdk-rx <vdev> <udp port> <seconds> [latency]\n");
    return 2;
  }
  const char* vdev = argv[1];
  const uint16_t port = (uint16_t)atoi(argv[2]);
  const double seconds = atof(argv[3]);
  const int latency = argc > 4 && strcmp(argv[4], "latency") == 0;
  char* eal[] = {"dpdk-rx", "--no-huge", "-m", "512", "--no-shconf", "--iova-mode=va", "-l", "0", "--no-telemetry", "--no-pci", "--log-level=*:warning", NULL};
  if (rte_eal_init(11, eal) < 0) {
    fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  char name[64];
  const char* comma = strchr(vdev, ',');
  size_t nl = comma ? (size_t)(comma - vdev) : strlen(vdev);
  snprintf(name, sizeof name, "%.*s", (int)nl, vdev);
  if (rte_vdev_init(name, comma ? comma + 1 : "") != 0) {
    fprintf(stderr, "rte_vdev_init %s failed\n", vdev);
    return 1;
  }
  uint16_t pid;
  if (rte_eth_dev_get_port_by_name(name, &pid) != 0) return 1;
  // 16384 mbufs of one 4 KiB stride each, as the wirewasm side uses. Without NO_SPREAD the mempool
  // pads objects past 4 KiB, and the AF_XDP PMD cannot make a UMEM of chunks larger than a page.
  struct rte_pktmbuf_pool_private priv = {.mbuf_data_room_size = 4096 - 64 - sizeof(struct rte_mbuf), .mbuf_priv_size = 0};
  struct rte_mempool* mp = rte_mempool_create("rx", 16384, sizeof(struct rte_mbuf) + priv.mbuf_data_room_size, 256, sizeof priv,
                                              rte_pktmbuf_pool_init, &priv, rte_pktmbuf_init, NULL, SOCKET_ID_ANY, RTE_MEMPOOL_F_NO_SPREAD);
  if (!mp) {
    fprintf(stderr, "pool: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  struct rte_eth_conf conf;
  memset(&conf, 0, sizeof conf);
  uint16_t nrx = 1024, ntx = 1024;
  if (rte_eth_dev_configure(pid, 1, 1, &conf) != 0 || rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx) != 0 ||
      rte_eth_rx_queue_setup(pid, 0, nrx, SOCKET_ID_ANY, NULL, mp) != 0 || rte_eth_tx_queue_setup(pid, 0, ntx, SOCKET_ID_ANY, NULL) != 0 ||
      rte_eth_dev_start(pid) != 0) {
    fprintf(stderr, "port setup failed\n");
    return 1;
  }
  rte_eth_promiscuous_enable(pid);
  struct rte_eth_dev_info di;
  rte_eth_dev_info_get(pid, &di);
  printf("ready %s\n", di.driver_name);
  fflush(stdout);

  size_t latCap = latency ? 1 << 20 : 0, latN = 0;
  uint64_t* lat = latency ? malloc(latCap * sizeof *lat) : NULL;
  uint64_t received = 0;
  struct rte_mbuf* pkts[32];
  const uint64_t end = mono_ns() + (uint64_t)(seconds * 1e9);
  struct rusage r0;
  getrusage(RUSAGE_SELF, &r0);
  for (uint32_t polls = 0;; polls++) {
    const uint16_t n = rte_eth_rx_burst(pid, 0, pkts, 32);
    if (n == 0) {
      if ((polls & 1023) == 0 && mono_ns() > end) break;
      continue;
    }
    const uint64_t now = latency ? mono_ns() : 0;
    for (uint16_t i = 0; i < n; i++) {
      const uint8_t* d = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
      if (pkts[i]->data_len < 60 || be16(d + 36) != port || be16(d + 42 + 16) != 0x5757) continue;
      received++;
      if (latency && latN < latCap) lat[latN++] = now - be64(d + 42 + 8);
    }
    rte_pktmbuf_free_bulk(pkts, n);
  }
  struct rusage r1;
  getrusage(RUSAGE_SELF, &r1);
  const double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
                     (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
  struct rte_eth_stats st;
  rte_eth_stats_get(pid, &st);
  printf("{\"received\":%llu,\"cpuS\":%.6f,\"pmdMissed\":%llu,\"mode\":\"c %s\"", (unsigned long long)received, cpu, (unsigned long long)st.imissed, di.driver_name);
  if (latency) {
    printf(",\"latenciesNs\":[");
    for (size_t i = 0; i < latN; i++) printf(i ? ",%llu" : "%llu", (unsigned long long)lat[i]);
    printf("]");
  }
  printf("}\n");
  fflush(stdout);
  rte_eth_dev_stop(pid);
  rte_eth_dev_close(pid);
  rte_vdev_uninit(name);
  return 0;
}
