// The NATS subjects wirewasm publishes on, hierarchical so consumers pick with wildcards
// (docs/publish.md has the table):
//
//   wirewasm.<engine>.records.value            numbers handlers emit()
//   wirewasm.<engine>.records.frame            frames handlers keep()
//   wirewasm.<engine>.records.plugin.<plugin>  records of parser plugin <plugin>
//   wirewasm.<engine>.stats                    the engine's stats snapshot, JSON, every second
//   md.<feed>.<symbol>.bbo                     market data: best bid/offer changes of a symbol
//   md.<feed>.<symbol>.trade                   market data: trades of a symbol
//   md.<feed>.<symbol>.msg                     market data: every decoded feed message of a symbol
//
// e.g. `wirewasm.*.records.>` every record of every engine, `wirewasm.*.stats` the fleet's stats,
// `md.itch.*.bbo` every symbol's BBO. A token is what NATS allows between dots: no '.', '*', '>'
// or white space.
import os from 'node:os';
import type { RecordKind } from './framing.js';

const BAD_TOKEN = /[.*>\s]/;

/** Throws when `token` cannot be one subject token, saying why and how to fix it. */
export function checkToken(what: string, token: string): string {
  if (!token || BAD_TOKEN.test(token)) throw new Error(`${what} "${token}": must be one NATS subject token (not empty; no '.', '*', '>' or spaces), e.g. "${subjectToken(token || 'x')}"`);
  return token;
}

/** `s` made into a valid token: every character NATS does not allow in one becomes '_'. */
export const subjectToken = (s: string): string => s.replace(/[.*>\s]/g, '_') || '_';

/** The default engine id: host name and pid, so two engines on one host never collide. */
export const defaultEngineId = (): string => subjectToken(`${os.hostname()}-${process.pid}`);

export const recordsPrefix = (engine: string): string => `wirewasm.${engine}.records`;

/** The subject of a records message under `prefix` (default recordsPrefix(engine)). */
export function recordsSubject(prefix: string, kind: RecordKind, tag = ''): string {
  return kind === 'plugin' ? `${prefix}.plugin.${subjectToken(tag)}` : `${prefix}.${kind}`;
}

export const statsSubject = (engine: string): string => `wirewasm.${engine}.stats`;
/** Every engine's stats: what `wirewasm top` subscribes to. */
export const FLEET_STATS = 'wirewasm.*.stats';
/** Every record of every engine under the default prefix. */
export const ALL_RECORDS = 'wirewasm.*.records.>';

/** Market-data subjects for the feed handler's output. */
export const marketData = {
  bbo: (feed: string, symbol: string) => `md.${subjectToken(feed)}.${subjectToken(symbol)}.bbo`,
  trade: (feed: string, symbol: string) => `md.${subjectToken(feed)}.${subjectToken(symbol)}.trade`,
  msg: (feed: string, symbol: string) => `md.${subjectToken(feed)}.${subjectToken(symbol)}.msg`,
};

/**
 * True when every subject `subject` can match is one `pattern` matches (both may hold wildcards):
 * token by token, '>' in the pattern takes the rest, '*' one token (not a '>' of the subject).
 */
export function subjectWithin(subject: string, pattern: string): boolean {
  const s = subject.split('.');
  const p = pattern.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return i < s.length;
    if (i >= s.length) return false;
    if (p[i] === '*') {
      if (s[i] === '>') return false;
    } else if (p[i] !== s[i]) return false;
  }
  return s.length === p.length;
}

/** A comma-separated server list ("nats://a:4222,b:4223") as the client's `servers`. */
export const serverList = (url: string): string[] =>
  url.split(',').map((s) => s.trim()).filter(Boolean);
