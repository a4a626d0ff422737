// Peers of the parse bench that live outside the project: npm `pcap` (node_pcap) and `cap`, which
// need libpcap-dev to build, and the C parser. All are set up here, in .bench-cache/ (git-ignored),
// never as project dependencies; when one cannot be set up, the reason and the command to run are
// returned instead.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../../host/paths.js';

export const cacheDir = path.join(packageRoot, '.bench-cache');
const NPM_PEERS = { pcap: '3.1.0', cap: '0.2.1' } as const;

function sh(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_nodedir: process.env.npm_config_nodedir ?? '' } });
}

/** Loads an npm peer from .bench-cache, installing and building it first; a string says why not. */
export function loadNpmPeer(name: keyof typeof NPM_PEERS): unknown | string {
  const dir = path.join(cacheDir, 'node_modules', name);
  const how = `apt-get install -y libpcap-dev && cd .bench-cache && npm install --no-save ${name}@${NPM_PEERS[name]} && cd node_modules/${name} && npx node-gyp rebuild`;
  try {
    mkdirSync(cacheDir, { recursive: true });
    if (!existsSync(path.join(cacheDir, 'package.json'))) writeFileSync(path.join(cacheDir, 'package.json'), '{"name":"wirewasm-bench-cache","private":true}\n');
    if (!existsSync(dir)) sh('npm', ['install', '--no-save', '--no-audit', '--no-fund', `${name}@${NPM_PEERS[name]}`], cacheDir);
    const release = path.join(dir, 'build', 'Release');
    // npm 11 skips dependencies' install scripts: build the addon explicitly.
    if (!existsSync(release) || !readdirSync(release).some((f) => f.endsWith('.node'))) {
      if (!existsSync('/usr/include/pcap/pcap.h')) return `libpcap headers missing; run: ${how}`;
      const gyp = path.join(packageRoot, 'node_modules', '.bin', 'node-gyp');
      const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node.h') ? '/usr' : undefined);
      sh(gyp, ['rebuild', '--loglevel=error', ...(nodedir ? [`--nodedir=${nodedir}`] : [])], dir);
    }
    const require = createRequire(path.join(cacheDir, 'package.json'));
    // Only the pure-JS decoders are timed; requiring the package proves the addon loads on this Node.
    require(name);
    return name === 'pcap' ? require('pcap/decode') : require('cap').decoders;
  } catch (e) {
    const msg = String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).split('\n').filter(Boolean).slice(-3).join(' | ');
    return `could not set up npm ${name} on Node ${process.version}: ${msg}; to try by hand: ${how}`;
  }
}

/** Builds bench/native/parse.c with cc -O2 into .bench-cache/; a string says why not. */
export function buildCParser(): string | { exe: string } {
  const src = path.join(packageRoot, 'bench', 'native', 'parse.c');
  const exe = path.join(cacheDir, 'parse-c');
  try {
    mkdirSync(cacheDir, { recursive: true });
    sh('cc', ['-O2', '-o', exe, src], packageRoot);
    return { exe };
  } catch (e) {
    return `cc -O2 failed: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).slice(0, 300)}; install a C compiler (apt-get install -y gcc)`;
  }
}
