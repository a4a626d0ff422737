// Every capture of ../shared/corpus/tcpdump read by dissect's streaming path, whole and damaged
// (cut at a pseudo-random byte; a pcap record's length made impossible), against tcpdump on the same
// bytes: as many frames as tcpdump delivers before the damage, the damage reported exactly when
// tcpdump reports it, and never anything but a capture error (no stack trace, no crash).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dissectStream } from '../../host/cli/commands/dissect.js';
import { artefact, packageRoot } from '../../host/paths.js';
import { CaptureReader } from '../../host/pcap/index.js';

const corpus = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump');
const tool = (t: string) => { try { execFileSync(t, ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } };
const have = existsSync(corpus) && tool('tcpdump') && tool('capinfos');
const cli = artefact('dist/host/cli/main.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'wwstream-damage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Frames dissect prints for `file`, and the problem that ended the read. */
function ours(file: string): { frames: number; problem?: string } {
  const reader = CaptureReader.open(file);
  let lines = 0;
  try {
    const { frames, problem } = dissectStream(reader, { write: (t) => void (lines += t.split('\n').length - 1) }, { format: 'jsonl' });
    expect(lines).toBe(frames);
    return { frames, problem: problem?.message };
  } finally {
    reader.close();
  }
}

/** What tcpdump delivers from `file` (its -w copy, counted by capinfos) and whether it reported damage. */
function tcpdump(file: string): { frames: number; damaged: boolean } {
  const out = path.join(dir, 'tcpdump-out.pcap');
  rmSync(out, { force: true });
  const r = spawnSync('tcpdump', ['-r', file, '-w', out], { encoding: 'utf8' });
  // A file refused at its header: tcpdump writes nothing.
  if (!existsSync(out)) return { frames: 0, damaged: r.status !== 0 };
  const count = execFileSync('capinfos', ['-c', '-M', '-T', '-r', out], { encoding: 'utf8' }).trim().split('\t')[1];
  return { frames: Number(count), damaged: r.status !== 0 };
}

let seed = 12345;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);

describe.skipIf(!have)('captures whole and damaged, against tcpdump (needs ../shared, tcpdump, capinfos)', () => {
  const files = have ? readdirSync(corpus).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort() : [];

  it('every corpus file: read to its end, as many frames as tcpdump', () => {
    const wrong: string[] = [];
    for (const f of files) {
      const a = ours(path.join(corpus, f));
      const t = tcpdump(path.join(corpus, f));
      if (a.problem || t.damaged || a.frames !== t.frames) wrong.push(`${f}: ours ${a.frames} ${a.problem ?? ''}, tcpdump ${t.frames}${t.damaged ? ' damaged' : ''}`);
    }
    expect(wrong).toEqual([]);
  }, 900_000);

  it('every corpus file cut short, and every pcap with a record made impossible: the frames before the damage, as tcpdump', () => {
    const wrong: string[] = [];
    let damaged = 0;
    for (const f of files) {
      const bytes = readFileSync(path.join(corpus, f));
      const variants: [string, Buffer][] = [['cut', bytes.subarray(0, 24 + Math.floor(random() * (bytes.length - 24)))]];
      if (f.endsWith('.pcap') && bytes.readUInt32LE(0) === 0xa1b2c3d4 && bytes.length > 200) {
        // The record header at or after a pseudo-random point: its caplen set past any snaplen.
        const copy = Buffer.from(bytes);
        let at = 24;
        const target = 24 + Math.floor(random() * (bytes.length - 24));
        while (at + 16 <= copy.length && at < target) {
          const next = at + 16 + copy.readUInt32LE(at + 8);
          if (next + 16 > copy.length) break;
          at = next;
        }
        if (at + 16 <= copy.length) {
          copy.writeUInt32LE(0x00ffffff, at + 8);
          variants.push(['corrupt', copy]);
        }
      }
      for (const [kind, v] of variants) {
        const file = path.join(dir, `${kind}-${f}`);
        writeFileSync(file, v);
        const a = ours(file);
        const t = tcpdump(file);
        if (t.damaged) damaged++;
        if (a.frames !== t.frames || !!a.problem !== t.damaged) wrong.push(`${kind} ${f}: ours ${a.frames} ${a.problem ?? 'no problem'}, tcpdump ${t.frames}${t.damaged ? ' damaged' : ''}`);
        rmSync(file);
      }
    }
    expect(wrong).toEqual([]);
    expect(damaged).toBeGreaterThan(300);
  }, 900_000);

  it('the CLI on damaged files: frames on stdout, one line naming file, record and offset, exit 1, no stack trace', () => {
    for (const f of files.filter((_, i) => i % 40 === 0)) {
      const bytes = readFileSync(path.join(corpus, f));
      const file = path.join(dir, `cli-${f}`);
      writeFileSync(file, bytes.subarray(0, bytes.length - 3));
      const r = spawnSync(process.execPath, [cli, 'dissect', file, '--format', 'jsonl'], { encoding: 'utf8', maxBuffer: 1 << 28 });
      const t = tcpdump(file);
      expect(r.status, f).toBe(1);
      expect(r.stdout.split('\n').length - 1, f).toBe(t.frames);
      expect(r.stderr.trim().split('\n'), f).toHaveLength(1);
      expect(r.stderr, f).toMatch(new RegExp(`^wirewasm: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: record \\d+: .*cut short \\(at byte \\d+\\); ${t.frames} frame\\(s\\) before it were printed\\n$`));
    }
  }, 300_000);
});
