// File rotation by tcpdump's rules (-C size, -W ring, -G seconds). For -C and -W the reference is
// tcpdump itself: the same records written by tcpdump -r ... -C 1 [-W n] and by our writer (as
// classic pcap, the format tcpdump writes) give the same file names with the same bytes. -G reads
// the wall clock, so it is checked with a clock the test moves.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pcapFormat, pcapngFormat, readCaptureFile, RotatingWriter, rotationFileName, writePcap, type CaptureRecord } from '../../host/pcap/index.js';
import { lacks } from '../support/tools.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'wwrot-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// About 3.3 MB of frames of many sizes (60 to 1514 bytes), so 1 MB files rotate three times and
// records straddle every boundary differently.
function bigCapture(): CaptureRecord[] {
  return Array.from({ length: 4000 }, (_, i) => {
    const len = 60 + ((i * 7919) % 1455);
    return { linktype: 1, timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 1_234_567n, data: new Uint8Array(len).fill(i & 0xff), wireLength: len, interfaceId: 0 };
  });
}

describe.skipIf(lacks('tcpdump'))('-C and -W name and fill files as tcpdump does', () => {
  for (const files of [undefined, 1, 2, 12]) {
    it(`-C 1${files ? ` -W ${files}` : ''}: the same files with the same bytes as tcpdump's`, () => {
      const records = bigCapture();
      const sub = path.join(dir, `w${files ?? 0}`);
      const theirs = path.join(sub, 'theirs');
      const ours = path.join(sub, 'ours');
      execFileSync('mkdir', ['-p', theirs, ours]);
      const input = path.join(sub, 'in.pcap');
      writeFileSync(input, writePcap(records, { linktype: 1 }));
      execFileSync('tcpdump', ['-Z', 'root', '-r', input, '-C', '1', ...(files ? ['-W', String(files)] : []), '-w', path.join(theirs, 'cap')], { stdio: 'ignore' });
      const w = new RotatingWriter(path.join(ours, 'cap'), pcapFormat({ linktype: 1 }), { maxBytes: 1_000_000, files });
      for (const r of records) expect(w.write(r)).toBe(true);
      w.close();
      const names = readdirSync(theirs).sort();
      expect(readdirSync(ours).sort()).toEqual(names);
      // -W 1 is a ring of one file, overwritten at each rotation.
      if (files === 1) expect(names).toEqual(['cap']);
      else expect(names.length).toBeGreaterThan(1);
      for (const n of names) expect(readFileSync(path.join(ours, n)).equals(readFileSync(path.join(theirs, n))), n).toBe(true);
    });
  }
});

describe('-G: a new file each period, named by strftime', () => {
  const rec = (i: number): CaptureRecord => ({ linktype: 1, timestampNs: BigInt(i) * 1000n, data: new Uint8Array(60).fill(i & 0xff), wireLength: 60, interfaceId: 0 });
  // 2026-01-02 03:04:05 local time, then as the test says.
  const start = new Date(2026, 0, 2, 3, 4, 5).getTime();

  it('-G 10: files named by the second each period began; a record 10 s on starts the next', () => {
    let now = start;
    const sub = path.join(dir, 'g');
    execFileSync('mkdir', ['-p', sub]);
    const w = new RotatingWriter(path.join(sub, 'cap-%H%M%S.pcapng'), pcapngFormat({ linktype: 1 }), { rotateS: 10 }, undefined, () => now);
    for (const [dt, i] of [[0, 0], [9_999, 1], [10_000, 2], [25_500, 3], [26_000, 4]] as const) {
      now = start + dt;
      expect(w.write(rec(i))).toBe(true);
    }
    w.close();
    expect(w.opened.map((f) => path.basename(f))).toEqual(['cap-030405.pcapng', 'cap-030415.pcapng', 'cap-030430.pcapng']);
    const counts = w.opened.map((f) => readCaptureFile(f).records.length);
    expect(counts).toEqual([2, 1, 2]);
  });

  it('-G with -W 2 (no -C): the third period ends the run before its first record', () => {
    let now = start;
    const w = new RotatingWriter(path.join(dir, 'gw-%S'), pcapngFormat({ linktype: 1 }), { rotateS: 1, files: 2 }, undefined, () => now);
    expect(w.write(rec(0))).toBe(true);
    now += 1000;
    expect(w.write(rec(1))).toBe(true);
    now += 1000;
    expect(w.write(rec(2))).toBe(false);
    w.close();
    expect(w.opened.map((f) => path.basename(f))).toEqual(['gw-05', 'gw-06']);
  });

  it('-G with -C: numbered files, the numbering restarting at 0 each period', () => {
    const base = 'x-%M%S-';
    const at = new Date(start);
    expect(rotationFileName(base, { rotateS: 60, maxBytes: 100 }, 0, at)).toBe('x-0405-');
    expect(rotationFileName(base, { rotateS: 60, maxBytes: 100 }, 2, at)).toBe('x-0405-2');
    expect(rotationFileName(base, { rotateS: 60, maxBytes: 100, files: 100 }, 0, at)).toBe('x-0405-00');
    let now = start;
    const sub = path.join(dir, 'gc');
    execFileSync('mkdir', ['-p', sub]);
    // 60-byte frames as pcapng: header 48 + 92 per record; over 200 bytes after two records.
    const w = new RotatingWriter(path.join(sub, 'c%S.'), pcapngFormat({ linktype: 1 }), { rotateS: 5, maxBytes: 200 }, undefined, () => now);
    for (let i = 0; i < 3; i++) w.write(rec(i));
    now += 5000;
    for (let i = 3; i < 6; i++) w.write(rec(i));
    w.close();
    expect(w.opened.map((f) => path.basename(f))).toEqual(['c05.', 'c05.1', 'c10.', 'c10.1']);
  });

  it('refuses what tcpdump refuses, saying what to give', () => {
    const enc = pcapngFormat({ linktype: 1 });
    expect(() => new RotatingWriter(path.join(dir, 'r'), enc, { files: 3 })).toThrow(/-W counts rotated files: give -C/);
    expect(() => new RotatingWriter(path.join(dir, 'r'), enc, { maxBytes: 0 })).toThrow(/-C 0: give a number above 0/);
    expect(() => new RotatingWriter('-', enc, { maxBytes: 10 }, { write: () => undefined })).toThrow(/give -w a file name/);
  });
});
