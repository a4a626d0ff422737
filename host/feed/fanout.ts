/** The fan-out behind Feed's subscriptions: one producer, any number of independent readers. */

/**
 * What the client hands out, to any number of readers: each `subscribe()` gets its own queue of
 * what arrives from then on (nothing before: a reader that never subscribed holds no memory), read
 * by an async iterator that ends once `done` settles and the queue is empty.
 */
export function fanout<T>(done: Promise<unknown>): { push(x: T): void; subscribe(): AsyncIterable<T>; readonly readers: number } {
  let ended = false;
  const readers = new Set<{ items: T[]; wake: (() => void) | null }>();
  const end = () => {
    ended = true;
    for (const r of readers) r.wake?.();
  };
  done.then(end, end);
  return {
    /** Readers subscribed now: a producer with none can skip making what it would push. */
    get readers() {
      return readers.size;
    },
    push(x) {
      for (const r of readers) {
        r.items.push(x);
        r.wake?.();
      }
    },
    subscribe() {
      const r = { items: [] as T[], wake: null as (() => void) | null };
      readers.add(r);
      return {
        async *[Symbol.asyncIterator]() {
          try {
            for (;;) {
              if (r.items.length) yield r.items.shift()!;
              else if (ended) return;
              else await new Promise<void>((w) => (r.wake = w));
              r.wake = null;
            }
          } finally {
            readers.delete(r);
          }
        },
      };
    },
  };
}

