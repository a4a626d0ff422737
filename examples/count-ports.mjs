// A small handler: counts UDP and TCP frames per destination port in each worker, and every
// 2^16 frames emits the busiest port to the main thread (engine.records()).
const perPort = new Map();
let seen = 0;

export default (burst) => {
  for (let i = 0; i < burst.length; i++) {
    const p = burst.packet(i);
    const port = p.udp?.dport ?? p.tcp?.dport;
    if (port !== undefined) perPort.set(port, (perPort.get(port) ?? 0) + 1);
  }
  seen += burst.length;
  if (seen >= 65536) {
    seen = 0;
    let best = 0;
    let bestN = -1;
    for (const [port, n] of perPort) if (n > bestN) (best = port), (bestN = n);
    burst.emit(best);
  }
};
