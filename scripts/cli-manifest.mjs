// Records, after tsc, what `wirewasm --help` prints and which commands/ file registers each command
// (dist/host/cli/manifest.json), so the CLI answers --help and starts a command without importing
// every command module (host/cli/main.ts).
import { writeFileSync } from 'node:fs';
import { buildManifest, manifestFile } from '../dist/host/cli/program.js';

writeFileSync(manifestFile(), JSON.stringify(await buildManifest(), null, 1) + '\n');
