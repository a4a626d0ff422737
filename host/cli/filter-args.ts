// Filter expressions on the command line as tcpdump takes them: the arguments after the others,
// joined by spaces (`wirewasm dissect x.pcap udp port 7001`), or -F FILE, the expression read from
// a file (where `#` starts a comment to the end of its line).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';

export interface FilterCliOptions {
  filterFile?: string;
}

/** Adds the trailing [expression...] argument and -F FILE. */
export function addFilterArgs(cmd: Command): Command {
  return cmd
    .argument('[expression...]', 'a filter expression as tcpdump takes it (pcap-filter(7)), e.g. udp port 7001; frames it rejects are left out')
    .option('-F, --filter-file <file>', 'read the filter expression from FILE (as tcpdump -F)');
}

/** The expression the user gave, or undefined for none. */
export function filterExpression(words: readonly string[], o: FilterCliOptions): string | undefined {
  if (o.filterFile !== undefined) {
    if (words.length) throw new Error(`-F ${o.filterFile} gives the filter expression, and "${words.join(' ')}" was given too: give one of them`);
    let text: string;
    try {
      text = readFileSync(o.filterFile, 'utf8');
    } catch (e) {
      throw new Error(`-F ${o.filterFile}: cannot read the filter file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const expression = text.replace(/#[^\n]*/g, '').replace(/\s+/g, ' ').trim();
    if (!expression) throw new Error(`-F ${o.filterFile}: the file holds no filter expression`);
    return expression;
  }
  return words.length ? words.join(' ') : undefined;
}
