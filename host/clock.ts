// The one wall clock of host/ outside the engine (the socket backend's timestamps, the feed
// simulator and client): ns since the Unix epoch with sub-µs resolution (performance.timeOrigin
// + performance.now(); Date.now() has only ms). The native io_uring backend stamps with
// CLOCK_REALTIME, the same clock up to the drift since process start.

const DAY_NS = 86_400_000_000_000n;

export function nowNs(): bigint {
  const ms = performance.timeOrigin + performance.now();
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

/** ITCH timestamps: ns since midnight (UTC here; NASDAQ uses US Eastern). */
export function timeOfDayNs(at: bigint = nowNs()): bigint {
  return at % DAY_NS;
}
