// `wirewasm capture` as tcpdump users expect it, on a veth pair in namespaces this test makes: without
// -w one printed line per frame, -c and -s, and the files of -C/-W/-G named and filled as
// tcpdump(8) says, read back by tshark and capinfos. Needs root.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artefact } from '../../host/paths.js';
import { testbedAndDirForFile } from '../support/suite.js';
import { lacks } from '../support/tools.js';

const cli = artefact('dist/host/cli/main.js');
const root = process.getuid?.() === 0;
// Only the generator's frames: the fresh link's IPv6 ND and ARP are filtered out.
const ONLY_GEN = ['--rule', 'ethertype ipv6 -> drop', '--rule', 'ethertype arp -> drop'];

describe.skipIf(!root || lacks('tshark', 'capinfos'))('capture: printing, -c, -s, -C/-W/-G (needs root)', () => {
  const { bed, dir } = testbedAndDirForFile('wwcl');

  /** Starts `capture ARGS` in b's namespace, sends `count` frames of 128 B at `rate`, returns its exit code and output. */
  async function captureWhileSending(args: string[], count: number, rate = 20000): Promise<{ code: number | null; out: string; err: string }> {
    const cap = spawn(process.execPath, [cli, 'capture', '--netns', bed().b.ns, '-i', bed().b.iface, ...ONLY_GEN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    cap.stdout.on('data', (d) => (out += d));
    cap.stderr.on('data', (d) => (err += d));
    // Listened for now: with -G and -W the capture may end before the generator does.
    const exited = new Promise<number | null>((r) => cap.on('exit', r));
    await new Promise((r) => setTimeout(r, 1500));
    const gen = spawn(process.execPath, [cli, 'gen', '--netns', bed().a.ns, '-i', bed().a.iface, '--dst-ip', bed().b.ip, '--rate', String(rate), '--size', '128', '-c', String(count), '--port', '9000'], { stdio: 'ignore' });
    expect(await new Promise((r) => gen.on('exit', r))).toBe(0);
    const code = await exited;
    return { code, out, err };
  }

  const tshark = (file: string, ...fields: string[]) =>
    execFileSync('tshark', ['-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').filter(Boolean);

  it('without -w: one line per frame as dissect prints it, -c frames, each cut to -s bytes', async () => {
    const { code, out, err } = await captureWhileSending(['-c', '50', '-s', '64', '-d', '30'], 50);
    expect({ code, err: err.replace(/^.*capturing until.*\n/m, '') }).toMatchObject({ code: 0 });
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(50);
    lines.forEach((l, i) => {
      // number, UTC time to the microsecond, captured bytes (the snap length), ptype, addresses.
      const m = /^\s*(\d+) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\s+(\d+) ether ipv4 udp\s+(\S+):\d+ > (\S+):(\d+) len \d+ ttl \d+/.exec(l);
      expect(m, l).not.toBeNull();
      expect([Number(m![1]), Number(m![2]), m![3], m![4], m![5]]).toEqual([i + 1, 64, bed().a.ip, bed().b.ip, '9000']);
    });
  }, 60_000);

  it('-C/-W: a ring of files named FILE0..FILE2, each closed once over the size, read back by tshark', async () => {
    const base = path.join(dir(), 'ring.pcapng');
    // 0.02 MB = 20000 bytes; 124-byte frames cut to 100 (-s) make 132-byte pcapng blocks after a
    // 60-byte header: 152 per file.
    const { code, out } = await captureWhileSending(['-w', base, '-C', '0.02', '-W', '3', '-s', '100', '-c', '500', '-d', '30', '--json'], 500);
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.written).toBe(500);
    // 500 = 152 × 3 + 44: ring.pcapng0, 1, 2, then 0 again, overwritten.
    expect(r.files.map((f: string) => path.basename(f))).toEqual(['ring.pcapng0', 'ring.pcapng1', 'ring.pcapng2', 'ring.pcapng0']);
    expect(existsSync(base)).toBe(false);
    const counts: Record<string, number> = {};
    for (const n of ['0', '1', '2']) {
      const f = base + n;
      const frames = tshark(f, 'frame.cap_len', 'frame.len', 'udp.dstport');
      expect(new Set(frames)).toEqual(new Set(['100\t124\t9000']));
      counts[n] = frames.length;
      const capinfos = execFileSync('capinfos', ['-c', '-M', f], { encoding: 'utf8' });
      expect(capinfos).toMatch(new RegExp(`Number of packets:\\s+${frames.length}\\b`));
    }
    expect(counts).toEqual({ '0': 44, '1': 152, '2': 152 });
    // tcpdump's rule: a file is closed before the record that would follow once it is over the size,
    // so a full file is over 20000 bytes by less than one record.
    for (const n of ['1', '2']) {
      const size = statSync(base + n).size;
      expect(size).toBeGreaterThan(20000);
      expect(size - 132).toBeLessThanOrEqual(20000);
    }
  }, 60_000);

  it('-G with -W: a file per period named by strftime, and the run ends after the last one', async () => {
    const pattern = path.join(dir(), 'g-%H%M%S.pcapng');
    // 100 frames a second for 8 s, starting 1.5 s into the first period; two 3-second files end
    // the capture about 6 s after it started.
    const { code, out, err } = await captureWhileSending(['-w', pattern, '-G', '3', '-W', '2', '-d', '30', '--json'], 800, 100);
    expect(code).toBe(0);
    expect(err).toContain('Maximum file limit reached: 2');
    const r = JSON.parse(out);
    expect(r.files).toHaveLength(2);
    const [a, b] = r.files.map((f: string) => path.basename(f));
    expect(a).toMatch(/^g-\d{6}\.pcapng$/);
    expect(b).toMatch(/^g-\d{6}\.pcapng$/);
    expect(b > a).toBe(true);
    const frames = r.files.map((f: string) => tshark(f, 'udp.dstport'));
    for (const f of frames) expect(f.length).toBeGreaterThan(0);
    expect(frames[0].length + frames[1].length).toBe(r.written);
    // Every frame received is written or counted: those after the last file are after_limit.
    expect(r.rx_packets).toBe(r.delivered + r.dropped.filtered + r.dropped.kernel + r.dropped.plugin + r.dropped.after_limit);
    expect(r.dropped.after_limit).toBeGreaterThan(0);
    // Each file holds at most its period: about 100 frames a second, under four seconds.
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(400);
  }, 60_000);
});
