// Emits, for every frame, the wall-clock time in µs (Unix epoch) when the handler saw it: the
// publish latency bench's record creation time.
export default (burst) => {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  for (let i = 0; i < burst.length; i++) burst.emit(us);
};
