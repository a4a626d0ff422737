// The addon loads libpcap only when an expression is compiled: on a machine without libpcap every
// other command works, and `filter` says what to install. libpcap is made unloadable for one
// child process by a private mount namespace in which /dev/null is bound over the library file
// (root only; the machine's own mounts are untouched).
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = path.resolve(import.meta.dirname, '../../dist/host/cli/main.js');
const root = process.getuid?.() === 0;

function libpcapFiles(): string[] {
  const out = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout;
  const files = [...out.matchAll(/libpcap\.so[^\s]* .*=> (\S+)/g)].map((m) => realpathSync(m[1]));
  return [...new Set(files)];
}

/** Runs the CLI with every libpcap on the loader's path replaced by an empty file. */
function withoutLibpcap(...args: string[]) {
  const binds = libpcapFiles().map((f) => `mount --bind /dev/null ${f}`).join(' && ');
  const script = `${binds} && exec "$0" "$@"`;
  return spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, process.execPath, CLI, ...args], { encoding: 'utf8' });
}

describe.skipIf(!root)('without libpcap (root: a private mount namespace)', () => {
  it('the addon loads and other commands run; `filter` names the package to install, with no stack trace', () => {
    expect(libpcapFiles().length).toBeGreaterThan(0);
    const info = withoutLibpcap('info', '--json');
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout).version).toBeTypeOf('string');
    const f = withoutLibpcap('filter', '-d', 'udp port 53');
    expect(f.status).toBe(1);
    expect(f.stderr).toMatch(/^wirewasm: filter expressions need libpcap, which is not installed \(.*libpcap\.so.*\): apt-get install libpcap0\.8\n$/);
    expect(f.stdout).toBe('');
  });
});
