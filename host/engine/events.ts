// The events an Engine emits (`engine.on(name, listener)`), typed for TypeScript listeners.
import type { EngineStats } from './stats.js';

export interface WorkerExit {
  worker: number;
  code: number;
  error?: Error;
  /** Frames the dead worker held: recovered to the pool (counted as handler_error), or, when the
   * plugin watchdog ended it, its burst handed to the replacement. */
  recovered: number;
  restarted: boolean;
}

/** A handler threw: reported for the first burst that failed, then at most once a second per worker. */
export interface HandlerError {
  worker: number;
  /** The thrown error's name (e.g. "TypeError"). */
  name: string;
  message: string;
  /** Bursts this worker's handler has failed so far. */
  count: number;
}

/** The events an Engine emits, for `engine.on(name, listener)` with typed listeners. */
export interface EngineEvents {
  /** A handler threw (the burst's frames count as handler_error). */
  'handler-error': [HandlerError];
  /** A worker died; restarted unless `restart: false`. */
  'worker-exit': [WorkerExit];
  /** A failure after start() (a worker that could not be restarted); done and stop() reject with it too. */
  error: [Error];
  /** The engine stopped: the final stats. */
  stopped: [EngineStats];
}
