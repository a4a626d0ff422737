import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, found from this file whether it runs as host/*.ts (tests) or dist/host/*.js. */
export const packageRoot: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('wirewasm: cannot find the package root (no package.json above host/)');
    dir = up;
  }
  return dir;
})();

/** A built artefact (`dist/...`, `build/...`) by its path from the package root. */
export const artefact = (rel: string): string => path.join(packageRoot, rel);
