// `wirewasm sub --nats URL SUBJECT`: the records engines publish, decoded. One line per message, or
// with --jsonl one JSON object per record: {"engine","queue","seq","kind","bytes":"<hex>"}, where
// (engine, queue, seq) names one record; kind is value, frame or plugin.<name>. Messages on the
// subject that are not records messages are counted and skipped (the counts go to stderr at exit).
import type { Command } from 'commander';
import { subscribeRecords } from '../../publish/consumer.js';

export function register(program: Command): void {
  program
    .command('sub')
    .description('subscribe to records engines publish (--publish) and print them decoded; wildcards allowed, e.g. "wirewasm.*.records.>"')
    .requiredOption('--nats <url>', 'NATS server URL (several: comma separated)')
    .argument('[subject]', 'subject to read', 'wirewasm.*.records.>')
    .option('--jsonl', 'one JSON object per record: {"engine","queue","seq","kind","bytes":"<hex>"}')
    .option('--durable <name>', 'read through a JetStream durable consumer (resumes where it stopped)')
    .option('--stream <name>', 'JetStream stream to read (default: the one holding the subject)')
    .option('-c, --count <n>', 'exit after n records')
    .action(async (subject: string, o: { nats: string; jsonl?: boolean; durable?: string; stream?: string; count?: string }) => {
      const count = o.count === undefined ? Infinity : Number(o.count);
      if (!(count > 0)) throw new Error(`--count: expected a number > 0, got "${o.count}"`);
      const sub = await subscribeRecords({ url: o.nats, subject, durable: o.durable, stream: o.stream });
      process.stderr.write(`wirewasm sub: listening on ${subject}${sub.jetstream ? ' (JetStream)' : ''}\n`);
      const stop = () => void sub.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let n = 0;
      const out: string[] = [];
      try {
        for await (const b of sub) {
          const kind = b.kind === 'plugin' ? `plugin.${b.tag}` : b.kind;
          if (o.jsonl) {
            for (const r of b.records) {
              if (n++ >= count) break;
              out.push(`{"engine":${JSON.stringify(b.engine)},"queue":${b.queue},"seq":${r.seq},"kind":${JSON.stringify(kind)},"bytes":"${Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.length).toString('hex')}"}`);
            }
          } else {
            const take = Math.min(b.records.length, count - n);
            n += take;
            out.push(`${b.engine} queue ${b.queue} ${kind} seq ${b.seq}..${b.seq + take - 1} (${take} records, ${b.records.slice(0, take).reduce((s, r) => s + r.bytes.length, 0)} bytes)`);
          }
          process.stdout.write(out.join('\n') + '\n');
          out.length = 0;
          if (n >= count) break;
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await sub.close();
        const s = sub.stats;
        process.stderr.write(`wirewasm sub: ${s.records} records in ${s.batches} batches; skipped: ${s.foreign} foreign, ${s.malformed} malformed, ${s.duplicates} duplicate${s.gaps ? `; ${s.gaps} records never came` : ''}${s.last_error ? ` (last: ${s.last_error})` : ''}\n`);
      }
    });
}
