// The package as a user gets it: `npm pack`, then `npm install ./wirewasm-<v>.tgz` in an empty
// project. The install must compile nothing on linux-x64 (the addon comes from prebuilds/, the WASM
// and JS ship built), pull no dev dependency, and leave a working API and `wirewasm` bin.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../host/paths.js';
import { FrameParser } from '../../host/parser.js';
import { readCaptureFile } from '../../host/pcap/index.js';
import { dpdkBuilt } from '../support/dpdk.js';

const run = promisify(execFile);
const capture = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump', 'isis_iid_tlv.pcap');
// A user's shell PATH, not the test runner's: that puts node_modules/.bin first, where the
// dev dependencies leave an old npm.
const PATH = (process.env.PATH ?? '').split(':').filter((d) => !d.includes('node_modules')).join(':');
const npm = (args: string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], { cwd, maxBuffer: 64 << 20, env: { ...process.env, PATH, npm_config_loglevel: 'warn' } });

describe.skipIf(process.platform !== 'linux' || process.arch !== 'x64' || !existsSync(capture))('npm pack, then npm install of the tarball in an empty project', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'wirewasm-pkg-'));
  const app = path.join(tmp, 'app');
  let files: string[] = [];
  let installLog = '';

  beforeAll(async () => {
    const { stdout } = await npm(['pack', '--json', '--pack-destination', tmp], packageRoot);
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    files = packed.files.map((f) => f.path);
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // --foreground-scripts: the package's install script prints into this log, where a compile would show.
    const r = await npm(['install', '--prefer-offline', '--foreground-scripts', path.join(tmp, packed.filename)], app);
    installLog = r.stdout + r.stderr;
    console.log(`npm install log:\n${installLog}`);
  }, 600_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('the tarball carries what runs (built WASM, JS with .d.ts, the linux-x64 prebuild, native sources) and no test, bench or cache file', () => {
    for (const f of ['dist/host/index.js', 'dist/host/index.d.ts', 'dist/host/cli/main.js', 'dist/host/workers/engine-worker.js', 'dist/wasm/engine.wasm', 'binding.gyp', 'native/addon.cc', 'scripts/install.mjs'])
      expect(files, f).toContain(f);
    expect(files.some((f) => /^prebuilds\/linux-x64\/[^/]+\.node$/.test(f)), 'a linux-x64 prebuild').toBe(true);
    expect(files.some((f) => /^dist\/plugins\/[^/]+\.wasm$/.test(f)), 'built plugins').toBe(true);
    const unwanted = files.filter((f) => /^(tests|bench|dist\/bench|assembly|build|\.bench-cache|\.ci|node_modules)\/|\.(map|wat|tsbuildinfo)$|\.build-stamp$/.test(f));
    expect(unwanted).toEqual([]);
    // Native sources and prebuilds, never a build directory's objects and makefiles.
    expect(files.filter((f) => /^native\/(.*\/)?build\//.test(f))).toEqual([]);
    // Where libdpdk was there to build it, the DPDK addon ships prebuilt too.
    if (dpdkBuilt) expect(files).toContain('native/dpdk/prebuilds/linux-x64/wirewasm_dpdk.node');
  });

  it('installs without compiling anything and without dev dependencies', () => {
    expect(installLog).toMatch(/native addon prebuilds\/linux-x64\/\S+\.node loads here; nothing to compile/);
    expect(installLog).not.toMatch(/gyp info|CXX\(target\)|node-gyp rebuild|build:wasm|asc /);
    const mod = path.join(app, 'node_modules');
    expect(existsSync(path.join(mod, 'wirewasm', 'build'))).toBe(false);
    for (const dev of ['assemblyscript', 'typescript', 'node-gyp', 'vitest', '@as-pect']) expect(readdirSync(mod), dev).not.toContain(dev);
  });

  it("imports the API from 'wirewasm' and replays a real capture through a handler", async () => {
    writeFileSync(path.join(app, 'handler.mjs'), 'export default (burst) => { burst.emit(burst.length); };\n');
    writeFileSync(
      path.join(app, 'main.mjs'),
      `import { Engine } from 'wirewasm';
const engine = new Engine({ file: process.argv[2], workers: 1, handler: new URL('./handler.mjs', import.meta.url).href });
await engine.start();
let emitted = 0;
const reading = (async () => { for await (const b of engine.records()) for (const v of b.values) emitted += v; })();
const stats = await engine.done;
await reading;
console.log(JSON.stringify({ delivered: stats.delivered, emitted }));
`,
    );
    const frames = readCaptureFile(capture).records.length;
    const { stdout } = await run(process.execPath, ['main.mjs', capture], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({ delivered: frames, emitted: frames });
  }, 60_000);

  it("the README's quick start runs as written, against the installed package", async () => {
    const readme = readFileSync(path.join(packageRoot, 'README.md'), 'utf8');
    const block = /## Quick start[^]*?```js\n([^]*?)```/.exec(readme)?.[1];
    expect(block, 'a js block in the Quick start section').toBeDefined();
    const [main, handler] = block!.split(/^\/\/ handler\.mjs.*$/m);
    writeFileSync(path.join(app, 'main.mjs'), main.replace("'trace.pcap'", JSON.stringify(capture)));
    writeFileSync(path.join(app, 'handler.mjs'), handler);
    const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: app });
    const { records } = readCaptureFile(capture);
    let udp = 0;
    new FrameParser().parse(records, (pkt) => void (pkt.udp && udp++));
    const frames = records.length;
    expect(stdout.trim()).toBe(`${frames} frames, ${udp} UDP`);
  }, 60_000);

  it('exports only the public entry point: deep imports are refused', async () => {
    const r = run(process.execPath, ['--input-type=module', '-e', "await import('wirewasm/dist/host/engine.js')"], { cwd: app });
    await expect(r).rejects.toMatchObject({ stderr: expect.stringMatching(/ERR_PACKAGE_PATH_NOT_EXPORTED/) });
    const types = await run(process.execPath, ['-e', "console.log(require.resolve('wirewasm/package.json'))"], { cwd: app });
    expect(types.stdout.trim()).toBe(path.join(app, 'node_modules', 'wirewasm', 'package.json'));
  });

  it('runs the wirewasm bin from node_modules/.bin', async () => {
    const bin = path.join(app, 'node_modules', '.bin', 'wirewasm');
    const help = await run(bin, ['--help'], { cwd: app });
    for (const cmd of ['replay', 'capture', 'dissect', 'info']) expect(help.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
    const { stdout } = await run(bin, ['replay', capture, '--json', '-q'], { cwd: app });
    expect(JSON.parse(stdout).delivered).toBe(readCaptureFile(capture).records.length);
    // The installed DPDK addon loads from its prebuild (nothing was compiled for it either).
    if (dpdkBuilt) expect(JSON.parse((await run(bin, ['info', '--json'], { cwd: app })).stdout).dpdk).toMatchObject({ available: true });
  }, 60_000);
});
