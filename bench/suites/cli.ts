// `cli`: how long `wirewasm --help` and a command's own --help take to answer (process start to
// exit), against bare `node` start and against loading every command module, which is what the
// CLI did before it loaded only the command being run. Target: `wirewasm --help` < 0.5 s.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { artefact } from '../../host/paths.js';
import { argValue, summarize, type Suite } from '../common.js';

const suite: Suite = async ({ argv, log }) => {
  const runs = argValue(argv, '--runs', 10);
  const main = artefact('dist/host/cli/main.js');
  const program = path.join(path.dirname(main), 'program.js');
  const cases: [string, string[]][] = [
    ['wirewasm --help', [main, '--help']],
    ['wirewasm replay --help', [main, 'replay', '--help']],
    ['wirewasm --version', [main, '--version']],
    ['node -e 0 (node start alone)', ['-e', '0']],
    ['every command module loaded', ['--input-type=module', '-e', `const p = await import(${JSON.stringify(program)}); (await p.addCommands(p.newProgram())).helpInformation();`]],
  ];
  const samples = cases.map(() => [] as number[]);
  log(`cli: ${runs} runs of ${cases.length} cases, round-robin`);
  for (let r = 0; r < runs; r++)
    cases.forEach(([name, args], i) => {
      const t = performance.now();
      const p = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      if (p.status !== 0) throw new Error(`${name}: exit ${p.status}: ${p.stderr}`);
      samples[i].push((performance.now() - t) / 1000);
    });
  return cases.map(([name], i) => summarize(name, 's', samples[i]));
};
export default suite;
