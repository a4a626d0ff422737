// `npm install`'s step. Two cases, told apart by whether the AssemblyScript sources are here:
// - a checkout (assembly/ present): builds the addon, the WASM, the plugins and host/ unless the
//   build is already newer than every source (`npx wirewasm` inside the checkout links the project
//   into npx's cache and runs this again; a rebuild there takes minutes and rewrites dist/ under
//   anything running from it). WIREWASM_REBUILD=1 forces it.
// - an installed package (the tarball ships dist/ and prebuilds/, no sources to build from): the
//   WASM and JS are used as shipped; the addon loads from prebuilds/ when one matches this platform,
//   and only otherwise node-gyp-build compiles it from native/ with node-gyp.
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

if (!existsSync(path.join(root, 'assembly'))) {
  const require = createRequire(import.meta.url);
  const load = require('node-gyp-build');
  let prebuilt;
  try {
    prebuilt = load.resolve(root);
    require(prebuilt);
  } catch {
    prebuilt = undefined;
  }
  if (prebuilt) {
    console.log(`wirewasm: native addon ${path.relative(root, prebuilt)} loads here; nothing to compile`);
  } else {
    console.log(`wirewasm: no prebuilt addon for ${process.platform}-${process.arch}; compiling it from native/ (node-gyp)`);
    execFileSync(process.execPath, [require.resolve('node-gyp-build/bin.js')], { cwd: root, stdio: 'inherit' });
  }
} else {
  const stamp = path.join(root, 'dist', '.build-stamp');
  const sources = ['assembly', 'native', 'host', 'bench', 'feed', 'examples', 'scripts', 'binding.gyp', 'tsconfig.json', 'package.json', 'asconfig.json'];
  const newest = (p) => {
    if (!existsSync(p)) return 0;
    const st = statSync(p);
    if (!st.isDirectory()) return st.mtimeMs;
    let m = 0;
    for (const e of readdirSync(p)) if (e !== 'node_modules') m = Math.max(m, newest(path.join(p, e)));
    return m;
  };
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  const changed = Math.max(...sources.map((s) => newest(path.join(root, s))));
  const prebuilds = path.join(root, 'prebuilds');
  const prebuilt = existsSync(prebuilds) && readdirSync(prebuilds, { recursive: true }).some((f) => String(f).endsWith('.node'));
  if (built > changed && prebuilt && process.env.WIREWASM_REBUILD !== '1') {
    console.log('wirewasm: build is up to date (set WIREWASM_REBUILD=1 to force)');
  } else {
    // `npm run build` runs `prebuild` (the addon, into prebuilds/) first, then WASM, plugins, host.
    execSync('npm run build', { cwd: root, stdio: 'inherit' });
    writeFileSync(stamp, `${new Date().toISOString()}\n`);
  }
}
