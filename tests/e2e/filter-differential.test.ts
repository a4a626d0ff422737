// Every capture of the tcpdump corpus, judged by a set of filter expressions twice: by libpcap
// (pcap_open_offline + pcap_compile + pcap_offline_filter, in tests/support/libpcap-ref.c) and by
// wirewasm (our reader, libpcap's compiler on a pcap_open_dead handle, our WASM translation run in
// one filterBurst per file). The accepted frames must be the same frames with the same verdicts,
// and an expression libpcap cannot compile for a file's link type must fail for us with
// libpcap's message.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilterError, Filter, linktypeToDlt, DEFAULT_SNAPLEN } from '../../host/filter/index.js';
import { readCaptureFile } from '../../host/pcap/index.js';
import { packageRoot } from '../../host/paths.js';
import { refFiles } from '../support/libpcap-ref.js';
import { loadFrames } from '../support/filter-run.js';
import { EXPRESSIONS } from '../support/filter-expressions.js';

const CORPUS = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump');


describe.skipIf(!existsSync(CORPUS))('filter verdicts match pcap_offline_filter on the tcpdump corpus', () => {
  const files = (existsSync(CORPUS) ? readdirSync(CORPUS) : []).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort().map((f) => path.join(CORPUS, f));

  it(`${EXPRESSIONS.length} expressions over every capture (${files.length} files)`, { timeout: 900_000 }, () => {
    expect(EXPRESSIONS.length).toBeGreaterThanOrEqual(60);
    expect(files.length).toBeGreaterThan(400);
    const ref = refFiles(EXPRESSIONS, files);
    const cache = new Map<string, Filter | FilterError>();
    const mismatches: string[] = [];
    let compared = 0;
    let accepted = 0;
    let compileErrors = 0;
    let readerDiffs = 0;
    for (const r of ref) {
      const name = path.basename(r.path);
      if (r.openError) continue; // libpcap cannot read it: nothing to compare verdicts with
      const { records } = readCaptureFile(r.path);
      if (records.length !== r.frames) {
        mismatches.push(`${name}: our reader gives ${records.length} frames, libpcap ${r.frames}${r.readError ? ` (${r.readError})` : ''}`);
        continue;
      }
      // libpcap reports the first interface's link type for the whole file.
      const linktype = records[0]?.linktype ?? 1;
      if (records.length && linktypeToDlt(linktype) !== r.dlt) {
        mismatches.push(`${name}: LINKTYPE ${linktype} maps to DLT ${linktypeToDlt(linktype)}, libpcap says ${r.dlt}`);
        continue;
      }
      // libpcap cuts a record longer than the file's snaplen to the snaplen, and keeps an original
      // length smaller than the captured one, where our reader (host/pcap) keeps every captured
      // byte and raises such a length to the captured one. The filter is judged on the lengths
      // pcap_offline_filter was given; every frame where the readers differ must differ only so.
      const frames = records.map((x, i) => {
        const [caplen, len] = r.lengths[i];
        if (caplen !== x.data.length || len !== x.wireLength) {
          readerDiffs++;
          const explained = caplen === Math.min(x.data.length, r.snaplen) && (len === x.wireLength || (len < x.data.length && x.wireLength === x.data.length));
          if (!explained) mismatches.push(`${name} frame ${i}: our reader gives caplen/len ${x.data.length}/${x.wireLength}, libpcap ${caplen}/${len}`);
        }
        return { data: x.data.subarray(0, caplen), wirelen: len };
      });
      const arena = loadFrames(frames);
      for (let e = 0; e < EXPRESSIONS.length; e++) {
        const want = r.results.get(e)!;
        const key = `${r.dlt}|${r.snaplen}|${e}`;
        let f = cache.get(key);
        if (!f) {
          try {
            f = Filter.compile(EXPRESSIONS[e], { linktype, snaplen: r.snaplen || DEFAULT_SNAPLEN });
          } catch (err) {
            if (!(err instanceof FilterError)) throw err;
            f = err;
          }
          cache.set(key, f);
        }
        if ('error' in want) {
          compileErrors++;
          if (!(f instanceof FilterError) || !f.message.includes(want.error)) mismatches.push(`${name} "${EXPRESSIONS[e]}": libpcap refuses (${want.error}), we ${f instanceof FilterError ? `say ${f.message}` : 'compiled it'}`);
          continue;
        }
        if (f instanceof FilterError) {
          mismatches.push(`${name} "${EXPRESSIONS[e]}": libpcap compiles it, we refuse: ${f.message}`);
          continue;
        }
        const got = arena.run(f);
        const wantList = [...want.accepted].map(([i, v]) => `${i}:${v}`).join(',');
        const list = (v: Uint32Array) => [...v].flatMap((x, i) => (x ? [`${i}:${x}`] : [])).join(',');
        if (list(got.burst) !== wantList || list(got.single) !== wantList || got.accepted !== want.accepted.size)
          mismatches.push(`${name} "${EXPRESSIONS[e]}": libpcap accepts [${wantList.slice(0, 200)}], we [${list(got.burst).slice(0, 200)}]`);
        compared += records.length;
        accepted += want.accepted.size;
      }
    }
    expect(mismatches.slice(0, 30)).toEqual([]);
    expect(readerDiffs).toBeLessThan(100);
    // The comparison must cover real work: many frames, both verdicts, and compile errors.
    expect(compared).toBeGreaterThan(100_000);
    expect(accepted).toBeGreaterThan(compared / 50);
    expect(accepted).toBeLessThan(compared);
    expect(compileErrors).toBeGreaterThan(files.length);
  });
});
