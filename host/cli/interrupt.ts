// Ctrl-C for the long-running commands: the first SIGINT (or a SIGTERM) asks the work to stop, so it
// ends cleanly and still prints its report; the handlers go when the work settles, so that after
// it a Ctrl-C ends the process as usual.

/** Runs `work` with a signal that aborts on SIGINT or SIGTERM. */
export async function untilInterrupted<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await work(abort.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
