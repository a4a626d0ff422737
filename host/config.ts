// Reading a config file: JSON whose keys are checked, so a typo is an error that names the key,
// not a setting silently ignored.
import { readFileSync } from 'node:fs';
import type { LayoutConfig } from './layout.js';

/** Every key a config file may hold, with what it is for; later subsystems add theirs. */
export const CONFIG_KEYS: Record<string, string> = {
  queues: 'receive queues (1..64)',
  workers: 'worker threads (1..64)',
  frameCount: 'frames in the pool (power of two)',
  frameSize: 'bytes per frame (power of two, 2048..65536)',
  ringSize: 'slots per ring (power of two)',
  rings: 'explicit ring list [{name, slots, slotBytes}]',
  kernelBytesPerQueue: 'bytes reserved per queue for kernel rings',
  scratchBytes: 'scratch bytes',
  maxMemoryBytes: 'maximum size of the shared memory in bytes',
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function parseConfig(text: string, source = 'config'): LayoutConfig & Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${source}: not valid JSON (${(e as Error).message}); write an object such as {"queues": 2, "frameCount": 8192}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`${source}: expected a JSON object such as {"queues": 2}, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  const unknown = Object.keys(value).filter((k) => !(k in CONFIG_KEYS));
  if (unknown.length)
    throw new ConfigError(`${source}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; known keys: ${Object.keys(CONFIG_KEYS).join(', ')}`);
  return value as LayoutConfig & Record<string, unknown>;
}

export function loadConfigFile(file: string): LayoutConfig & Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`${file}: cannot read the config file (${code ?? (e as Error).message})${code === 'ENOENT' ? '; check the path' : ''}`);
  }
  return parseConfig(text, file);
}
