// The structure rules `npm run lint:deps` enforces (docs/architecture.md, "Folders and their one
// job"). They hold for the whole of host/ and assembly/, type-only imports included: a circle
// through types still ties two files into one unit a reader cannot take apart.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: split out what both files need, or move the code to the file that owns it.',
      from: { path: '^(host|assembly)/' },
      to: { circular: true },
    },
    {
      name: 'kernel-and-parse-not-engine',
      severity: 'error',
      comment: 'assembly/kernel/ (the kernel ring walkers) and assembly/parse/ (the parser) stand alone: the engine calls them, never the reverse.',
      from: { path: '^assembly/(kernel|parse)/' },
      to: { path: '^assembly/engine/' },
    },
    {
      name: 'backends-not-engine',
      severity: 'error',
      comment: 'host/backends/ are kernel sources behind host/backends/types.ts; the engine drives them through that interface, never the reverse.',
      from: { path: '^host/backends/' },
      to: { path: '^host/engine/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to no file.',
      from: { path: '^(host|assembly)/' },
      // @nats-io/jetstream 3.4.0's package.json names its types "./lib/mod.d.js" (the file is
      // mod.d.ts), so the TypeScript-driven resolver finds nothing; Node resolves it through
      // "exports" and tsc through the .d.ts next to lib/mod.js.
      to: { couldNotResolve: true, pathNot: '^@nats-io/jetstream$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    // host/ imports './x.js' for './x.ts' (NodeNext); the tsconfig tells the resolver so.
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // AssemblyScript imports carry no extension.
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'] },
  },
};
