// `npm install`'s build step: builds WASM, plugins, the addon and the host unless the build is
// already newer than every source. Why skip: `npx wirewasm` inside the project links the project
// into npx's cache and runs this install script again; a full rebuild there takes minutes on a
// small machine and rewrites dist/ and build/ under anything already running from them.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const stamp = path.join(root, 'dist', '.build-stamp');
const sources = ['assembly', 'native', 'host', 'bench', 'feed', 'examples', 'scripts', 'binding.gyp', 'tsconfig.json', 'package.json', 'asconfig.json'];

function newest(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(p)) if (e !== 'node_modules') m = Math.max(m, newest(path.join(p, e)));
  return m;
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const changed = Math.max(...sources.map((s) => newest(path.join(root, s))));
if (built > changed && process.env.WIREWASM_REBUILD !== '1') {
  console.log('wirewasm: build is up to date (set WIREWASM_REBUILD=1 to force)');
} else {
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
