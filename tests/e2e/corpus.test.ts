// Replaying every capture of ../shared/corpus/tcpdump through the whole engine (2 workers, RSS,
// the handler) delivers exactly the frames Wireshark's file reader counts: capinfos (one process for
// all files) and, on a sample, tshark itself, which must agree with capinfos.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../host/engine/engine.js';
import { packageRoot } from '../../host/paths.js';

const corpus = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump');
const have = existsSync(corpus) && (() => { try { execFileSync('capinfos', ['-v'], { stdio: 'ignore' }); return true; } catch { return false; } })();

describe.skipIf(!have)('replay of the tcpdump corpus (needs ../shared and tshark)', () => {
  const files = have ? readdirSync(corpus).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort() : [];
  const counts = new Map<string, number>();
  if (have) {
    const out = execFileSync('capinfos', ['-c', '-T', '-r', '-M', ...files], { cwd: corpus, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 });
    for (const line of out.trim().split('\n')) {
      const [f, n] = line.split('\t');
      counts.set(f, Number(n));
    }
  }

  it('capinfos agrees with tshark on a sample', () => {
    for (const f of files.filter((_, i) => i % 50 === 0)) {
      const lines = execFileSync('tshark', ['-r', f, '-T', 'fields', '-e', 'frame.number'], { cwd: corpus, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      expect(lines === '' ? 0 : lines.split('\n').length, f).toBe(counts.get(f));
    }
  });

  it('delivers exactly the frames tshark counts, for every file', async () => {
    const wrong: string[] = [];
    let total = 0;
    for (const f of files) {
      const expected = counts.get(f);
      let delivered = -1;
      try {
        const e = new Engine({ file: path.join(corpus, f), workers: 2, frameCount: 1024 });
        await e.start();
        const s = await e.done;
        expect(s.rx_packets, f).toBe(s.delivered + s.dropped_total);
        expect(s.pool.in_use, f).toBe(0);
        delivered = s.delivered;
      } catch (err) {
        delivered = -1;
        if (expected !== 0) wrong.push(`${f}: ${(err as Error).message}`);
        continue;
      }
      total += delivered;
      if (delivered !== expected) wrong.push(`${f}: delivered ${delivered}, tshark counts ${expected}`);
    }
    expect(wrong).toEqual([]);
    expect(total).toBeGreaterThan(1000);
  }, 300_000);
});
