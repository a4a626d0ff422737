// `parse`: frames per second through the header parsers on a generated 1M-frame corpus with a
// mixed traffic profile (bench/parse/corpus.ts), against peers in the same run:
//   wirewasm-parse      parseBurst over bursts of 256 metadata records (one WASM call per burst)
//   wirewasm-parse-hot  the same on the first 8192 frames repeated (cache-hot)
//   c-O2 / c-O2-hot     the same extraction in C (bench/native/parse.c), cc -O2: the ceiling
//   js-dataview         the same extraction in hand-written JS over a DataView
//   node_pcap, cap      the npm packages' JS decoders (built in .bench-cache/ with libpcap-dev)
// The C and JS peers fill the same 64-byte records; a digest over every record checks they
// extracted exactly what WASM did ("agrees": true).
//
// Options: --frames N (default 1000000), --runs R (default 5), --peer-frames N for node_pcap/cap (default 200000).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { META } from '../../host/meta.js';
import { createParseEngine } from '../../host/parser.js';
import { argValue, summarize, unavailable, type BenchResult, type Suite } from '../common.js';
import { corpusBytes, generateCorpus } from '../parse/corpus.js';
import { jsParseBurst } from '../parse/js-parser.js';
import { buildCParser, cacheDir, loadNpmPeer } from '../parse/peers.js';

const BURST = 256;
const HOT = 8192;

function digest(dv: DataView, metaBase: number, count: number): number {
  let h = 0;
  for (let i = 0; i < count; i++) {
    const m = metaBase + i * 64;
    h = (Math.imul(h, 31) + dv.getUint32(m + 12, true)) >>> 0;
    for (let k = 24; k < 48; k += 4) h = (Math.imul(h, 31) + dv.getUint32(m + k, true)) >>> 0;
  }
  return h;
}

function time(fn: () => number): number {
  const t0 = performance.now();
  const n = fn();
  return n / ((performance.now() - t0) / 1000);
}

const suite: Suite = async ({ argv, log }) => {
  const count = argValue(argv, '--frames', 1_000_000);
  const runs = argValue(argv, '--runs', 5);
  const peerFrames = Math.min(count, argValue(argv, '--peer-frames', 200_000));
  const corpusSize = corpusBytes(count);
  const { layout, memory, exports: ex, u8, dv } = createParseEngine({ frameCount: 16, scratchBytes: corpusSize + count * 64 + 65536 });
  const metaBase = layout.scratch.offset;
  const corpusBase = metaBase + count * 64;
  log(`parse: generating ${count} frames`);
  const corpus = generateCorpus(u8, corpusBase, count);
  const resetMetas = () => {
    u8.fill(0, metaBase, metaBase + count * 64);
    for (let i = 0; i < count; i++) {
      const m = metaBase + i * 64;
      dv.setUint32(m + META.DATA, corpusBase + corpus.offsets[i], true);
      dv.setUint32(m + META.CAPLEN, corpus.lengths[i], true);
      dv.setUint32(m + META.WIRELEN, corpus.lengths[i], true);
      dv.setUint16(m + META.LINKTYPE, 1, true);
    }
  };
  resetMetas();
  const results: BenchResult[] = [];
  const env = { frames: count, burst: BURST, bytes: corpus.bytes };

  const wasmFull = () => {
    for (let i = 0; i < count; i += BURST) ex.parseBurst(metaBase + i * 64, Math.min(BURST, count - i), 0, 0);
    return count;
  };
  const wasmHot = () => {
    let done = 0;
    while (done < count) for (let i = 0; i < HOT && done < count; i += BURST, done += BURST) ex.parseBurst(metaBase + i * 64, BURST, 0, 0);
    return done;
  };
  // WASM and C runs alternate (one C process per round, timing only its parse loop), so that a
  // load change on a shared machine hits both peers alike instead of whichever ran second.
  log('parse: wirewasm and c-O2, alternating');
  wasmFull();
  const wasmDigest = digest(dv, metaBase, count);
  const errorsSeen = Array.from({ length: count }, (_, i) => dv.getUint32(metaBase + i * 64 + META.ERRORS, true) & ~0x80).filter((e) => e !== 0).length;
  const c = buildCParser();
  const file = path.join(cacheDir, 'parse-corpus.bin');
  if (typeof c !== 'string') {
    const head = new Uint32Array([0x57575043, count, corpus.bytes]);
    writeFileSync(file, Buffer.concat([Buffer.from(head.buffer), Buffer.from(corpus.offsets.buffer), Buffer.from(corpus.lengths.buffer), Buffer.from(memory.buffer, corpusBase, corpus.bytes)]));
  }
  const samples = { wasm: [] as number[], wasmHot: [] as number[], c: [] as number[], cHot: [] as number[] };
  let cAgrees = true;
  for (let r = 0; r < runs; r++) {
    samples.wasm.push(time(wasmFull));
    samples.wasmHot.push(time(wasmHot));
    if (typeof c === 'string') continue;
    const out = JSON.parse(execFileSync(c.exe, [file, '1'], { encoding: 'utf8' })) as { full: number[]; hot: number[]; digest: number };
    samples.c.push(...out.full);
    samples.cHot.push(...out.hot);
    cAgrees &&= out.digest === wasmDigest;
  }
  results.push(summarize('wirewasm-parse', 'pkts/s', samples.wasm, { ...env, undecoded: errorsSeen }));
  results.push(summarize('wirewasm-parse-hot', 'pkts/s', samples.wasmHot, { frames: HOT, burst: BURST }));
  if (typeof c === 'string') results.push(unavailable('c-O2', 'pkts/s', c), unavailable('c-O2-hot', 'pkts/s', c));
  else results.push(summarize('c-O2', 'pkts/s', samples.c, { frames: count, agrees: cAgrees }), summarize('c-O2-hot', 'pkts/s', samples.cHot, { frames: HOT, agrees: cAgrees }));

  log('parse: js-dataview');
  resetMetas();
  const jsFull = () => {
    for (let i = 0; i < count; i += BURST) jsParseBurst(dv, metaBase + i * 64, Math.min(BURST, count - i));
    return count;
  };
  jsFull();
  const jsAgrees = digest(dv, metaBase, count) === wasmDigest;
  results.push(summarize('js-dataview', 'pkts/s', Array.from({ length: runs }, () => time(jsFull)), { frames: count, agrees: jsAgrees }));

  const whole = Buffer.from(memory.buffer, corpusBase, corpus.bytes);
  const frameBuf = (i: number) => whole.subarray(corpus.offsets[i], corpus.offsets[i] + corpus.lengths[i]);
  const peerRuns = Math.max(1, Math.min(runs, 3));

  log('parse: node_pcap');
  const pcapDecode = loadNpmPeer('pcap');
  if (typeof pcapDecode === 'string') results.push(unavailable('node_pcap', 'pkts/s', pcapDecode));
  else {
    const decode = (pcapDecode as { decode: { packet: (p: unknown) => { payload?: { payload?: { payload?: unknown } } } } }).decode;
    const header = Buffer.alloc(16);
    let decoded = 0;
    const run = () => {
      decoded = 0;
      for (let i = 0; i < peerFrames; i++) {
        header.writeUInt32LE(corpus.lengths[i], 8);
        header.writeUInt32LE(corpus.lengths[i], 12);
        const p = decode.packet({ link_type: 'LINKTYPE_ETHERNET', header, buf: frameBuf(i) });
        // Decoded through L4 (or ARP, which has no L4).
        const l3 = p.payload?.payload as { payload?: unknown; sender_pa?: unknown } | undefined;
        if (l3 && (l3.payload || l3.sender_pa)) decoded++;
      }
      return peerFrames;
    };
    // node_pcap console.logs every ethertype it does not know (QinQ here): keep stdout for the report.
    const log0 = console.log;
    console.log = () => {};
    try {
      run();
      results.push(summarize('node_pcap', 'pkts/s', Array.from({ length: peerRuns }, () => time(run)), { frames: peerFrames, decoded: +(decoded / peerFrames).toFixed(3) }));
    } catch (e) {
      results.push(unavailable('node_pcap', 'pkts/s', `decoder threw: ${(e as Error).message}`));
    } finally {
      console.log = log0;
    }
  }

  log('parse: cap');
  const capDecoders = loadNpmPeer('cap');
  if (typeof capDecoders === 'string') results.push(unavailable('cap', 'pkts/s', capDecoders));
  else {
    type R = { info: Record<string, any>; offset: number };
    const D = capDecoders as Record<string, (b: Buffer, a?: number, c?: number) => R>;
    let decoded = 0;
    const run = () => {
      decoded = 0;
      for (let i = 0; i < peerFrames; i++) {
        const b = frameBuf(i);
        try {
          const e = D.Ethernet(b);
          let l3: R | undefined;
          if (e.info.type === 0x0800) l3 = D.IPV4(b, e.offset);
          else if (e.info.type === 0x86dd) l3 = D.IPV6(b, e.offset);
          else if (e.info.type === 0x0806) (D.ARP(b, e.offset), decoded++);
          if (!l3) continue;
          const proto = l3.info.protocol;
          if (proto === 6) (D.TCP(b, l3.offset), decoded++);
          else if (proto === 17) (D.UDP(b, l3.offset), decoded++);
          else if (proto === 1) (D.ICMPV4(b, b.length - l3.offset, l3.offset), decoded++);
        } catch {
          // a frame cap cannot decode counts as not decoded
        }
      }
      return peerFrames;
    };
    run();
    results.push(summarize('cap', 'pkts/s', Array.from({ length: peerRuns }, () => time(run)), { frames: peerFrames, decoded: +(decoded / peerFrames).toFixed(3) }));
  }
  return results;
};
export default suite;
