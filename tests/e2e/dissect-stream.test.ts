// `wirewasm dissect` on captures as they come: from stdin ('-', also fed by tcpdump -w -), printing
// the first frames while the writer is still writing, damage reported like tcpdump (frames before it
// printed, one line naming the file, the record and its byte offset, exit 1), unknown link types
// refused by number and name unless --linktype says how to decode them.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { artefact } from '../../host/paths.js';
import { writePcap, writePcapng, type CaptureRecord } from '../../host/pcap/index.js';

const cli = artefact('dist/host/cli/main.js');
const run = (args: string[], input?: Uint8Array) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input, maxBuffer: 1 << 28 });
const dir = mkdtempSync(path.join(os.tmpdir(), 'wwstream-dissect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const haveTcpdump = (() => { try { execFileSync('tcpdump', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

/** Ethernet / IPv4 / UDP frames, frame i from port 1000 + i. */
function udpRecords(n: number): CaptureRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const d = Buffer.alloc(60);
    Buffer.from('66778899aabb0011223344550800450000280001000040110000c0a80001c0a80002', 'hex').copy(d);
    d.writeUInt16BE(1000 + (i & 0x7fff), 34);
    d.writeUInt16BE(53, 36);
    d.writeUInt16BE(20, 38);
    return { linktype: 1, timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 1000n, data: new Uint8Array(d), wireLength: 60, interfaceId: 0 };
  });
}

describe('wirewasm dissect, streamed', () => {
  it("'-' reads stdin: the same lines as the file", () => {
    const bytes = writePcap(udpRecords(500), { linktype: 1 });
    const file = path.join(dir, 'udp.pcap');
    writeFileSync(file, bytes);
    const fromFile = run(['dissect', file, '--format', 'jsonl']);
    const fromPipe = run(['dissect', '-', '--format', 'jsonl'], bytes);
    expect(fromFile.status).toBe(0);
    expect(fromPipe.status).toBe(0);
    expect(fromPipe.stdout.split('\n')).toHaveLength(501);
    expect(fromPipe.stdout).toBe(fromFile.stdout);
  });

  it.skipIf(!haveTcpdump)('reads what tcpdump -w - writes into a pipe', () => {
    const file = path.join(dir, 'for-tcpdump.pcap');
    writeFileSync(file, writePcap(udpRecords(300), { linktype: 1 }));
    const out = execFileSync('sh', ['-c', `tcpdump -r "$1" -w - 2>/dev/null | "$2" "$3" dissect - --format jsonl`, 'sh', file, process.execPath, cli], { encoding: 'utf8' });
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(300);
    expect(lines[299].udp.sport).toBe(1299);
  });

  it('prints the first frames while the writer is still writing', async () => {
    const recs = udpRecords(2000);
    const bytes = writePcap(recs, { linktype: 1 });
    const firstPart = 24 + 100 * (16 + 60);
    const child = spawn(process.execPath, [cli, 'dissect', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let sawBeforeRest = false;
    let restWritten = false;
    const firstLine = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
      if (!restWritten && out === '') sawBeforeRest = true;
      out += d.toString();
      resolve();
    }));
    const done = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.write(bytes.subarray(0, firstPart));
    await firstLine;
    restWritten = true;
    child.stdin.end(bytes.subarray(firstPart));
    expect(await done).toBe(0);
    expect(sawBeforeRest).toBe(true);
    expect(out.trim().split('\n')).toHaveLength(2000);
  }, 60_000);

  it('a corrupt record mid-file: frames before it printed, one line naming file, record and offset, exit 1', () => {
    const recs = udpRecords(1000);
    const bytes = writePcap(recs, { linktype: 1 });
    const at = 24 + 700 * (16 + 60);
    new DataView(bytes.buffer).setUint32(at + 8, 0x00ffffff, true);
    const file = path.join(dir, 'corrupt.pcap');
    writeFileSync(file, bytes);
    const r = run(['dissect', file]);
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split('\n')).toHaveLength(700);
    const err = r.stderr.trim().split('\n');
    expect(err).toHaveLength(1);
    expect(err[0]).toContain(file);
    expect(err[0]).toMatch(new RegExp(`record 701: .*corrupt.*at byte ${at}\\b`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown link type: refused with its number and name; --linktype decodes anyway', () => {
    const recs = udpRecords(3).map((r) => ({ ...r, linktype: 189 }));
    const file = path.join(dir, 'usb.pcap');
    writeFileSync(file, writePcap(recs, { linktype: 189 }));
    const r = run(['dissect', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/link type 189 \(USB_LINUX\).*--linktype/);
    const forced = run(['dissect', file, '--linktype', '1', '--format', 'jsonl']);
    expect(forced.status).toBe(0);
    expect(forced.stdout.trim().split('\n').map((l) => JSON.parse(l).udp.dport)).toEqual([53, 53, 53]);
  });

  it('text: time, TCP flag names, [v6]:port', () => {
    const tcp6 = Buffer.from(
      '66778899aabb001122334455' + '86dd' + '6000000000140640' + '20010db8000000000000000000000001' + '20010db8000000000000000000000002' +
        '3039005000000001000000025012200000000000',
      'hex',
    );
    const file = path.join(dir, 'v6.pcapng');
    writeFileSync(file, writePcapng([{ linktype: 1 }], [{ linktype: 1, timestampNs: 1_700_000_000_123_456_000n, data: new Uint8Array(tcp6), wireLength: tcp6.length, interfaceId: 0 }]));
    const line = run(['dissect', file]).stdout.trim();
    expect(line).toContain('2023-11-14 22:13:20.123456');
    expect(line).toContain('[2001:db8::1]:12345 > [2001:db8::2]:80 [SYN,ACK]');
  });
});
