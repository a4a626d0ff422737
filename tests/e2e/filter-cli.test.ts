// `wirewasm filter`: its BPF listing is byte-for-byte what `tcpdump -d` prints for the same
// expression, link type and snaplen; its WASM text is the module it runs (wabt assembles it back
// to the same bytes); libpcap's compile errors reach the user verbatim, with the expression.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Filter, bpfListing, compileExpression } from '../../host/filter/index.js';
import { writePcap } from '../../host/pcap/index.js';
import { EXPRESSIONS } from '../support/filter-expressions.js';

const CLI = path.resolve(import.meta.dirname, '../../dist/host/cli/main.js');
const wirewasm = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

/** An empty capture of the link type, for `tcpdump -r FILE -d` (tcpdump -d needs a link type from somewhere). */
function emptyCapture(linktype: number, snaplen: number): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'wirewasm-filter-cli-')), `lt${linktype}.pcap`);
  writeFileSync(file, writePcap([], { linktype, snaplen }));
  return file;
}

function inProcess(expr: string, linktype: number) {
  try {
    return { status: 0, stdout: bpfListing(compileExpression(expr, { linktype, snaplen: 65535 })), stderr: '' };
  } catch (e) {
    return { status: 1, stdout: '', stderr: `wirewasm: ${(e as Error).message}\n` };
  }
}

const tcpdumpD = (file: string, expr: string) => spawnSync('tcpdump', ['-r', file, '-d', expr], { encoding: 'utf8' });

describe('wirewasm filter', () => {
  it('prints the BPF exactly as tcpdump -d does, for every expression of the differential and three link types', { timeout: 300_000 }, () => {
    let compared = 0;
    for (const [linktype, name] of [[1, 'EN10MB'], [113, 'LINUX_SLL'], [101, 'RAW']] as const) {
      const file = emptyCapture(linktype, 65535);
      EXPRESSIONS.forEach((expr, e) => {
        const want = tcpdumpD(file, expr);
        // The command itself for a few (a process each), the same functions in-process for the rest.
        const viaCli = e % 15 === 0;
        const got = viaCli ? wirewasm('filter', '--bpf', '-y', name, '-s', '65535', expr) : inProcess(expr, linktype);
        if (want.status !== 0) {
          // tcpdump: "tcpdump: MESSAGE"; we: the same MESSAGE after the expression and link type.
          const message = want.stderr.trim().split('\n').at(-1)!.replace(/^tcpdump: /, '');
          expect(got.status, expr).toBe(1);
          expect(got.stderr).toContain(`filter "${expr}" (link type ${name}): ${message}`);
          return;
        }
        expect(got.stdout, `${name} ${expr}`).toBe(want.stdout);
        compared++;
      });
    }
    expect(compared).toBeGreaterThan(150);
  });

  it('prints a WASM text that wat2wasm assembles to the very module the engine runs', async () => {
    const require = createRequire(import.meta.url);
    const wabt = await (require('wabt') as () => Promise<{ parseWat(n: string, s: string, f?: object): { toBinary(o: object): { buffer: Uint8Array }; destroy(): void } }>)();
    for (const expr of ['udp port 53', 'vlan and vlan and ip', 'tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420', 'len % 3 == 1', 'ip[2:2] << 1 > 1000']) {
      const out = wirewasm('filter', '--wasm', expr);
      expect(out.status, out.stderr).toBe(0);
      const m = wabt.parseWat('filter.wat', out.stdout, { threads: true });
      const bytes = m.toBinary({}).buffer;
      m.destroy();
      expect(Buffer.from(bytes).equals(Buffer.from(Filter.compile(expr).wasm)), expr).toBe(true);
    }
  });

  it('-d prints the BPF, then the WASM; a program the engine refuses is still listed, then refused by name', () => {
    const ok = wirewasm('filter', '-d', 'tcp port 80');
    expect(ok.status).toBe(0);
    const [bpf, wasm] = ok.stdout.split('\n;; ');
    expect(bpf).toBe(execFileSync(process.execPath, [CLI, 'filter', '--bpf', 'tcp port 80'], { encoding: 'utf8' }));
    expect(wasm).toMatch(/^\d+ BPF instructions for EN10MB, snaplen 262144 -> \d+ bytes of WASM\n\(module\n/);
    const refused = wirewasm('filter', '-d', 'inbound');
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain('(000) ldh      [pkttype]');
    expect(refused.stderr).toMatch(/^wirewasm: instruction 0 .*"pkttype"/);
  });

  it('names what is wrong with a link type or snaplen', () => {
    const lt = wirewasm('filter', '-y', 'NOSUCH', 'udp');
    expect([lt.status, lt.stderr]).toEqual([1, expect.stringContaining('unknown link type "NOSUCH"')]);
    const s = wirewasm('filter', '-s', '0', 'udp');
    expect([s.status, s.stderr]).toEqual([1, expect.stringContaining('-s 0: the snapshot length')]);
    // LINKTYPE_RAW (101) is DLT_RAW (12) to libpcap: the number a file header carries works.
    expect(compileExpression('ip', { linktype: 101 })).toEqual(compileExpression('ip', { linktype: 12 }));
  });
});
