// The test bed itself: two namespaces joined by a veth pair that really pass packets, and that
// leave nothing behind: on destroy, and when the process that made them was killed.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { artefact } from '../../host/paths.js';
import { createTestbed, leftovers, sweepTestbeds } from '../../host/testbed.js';

const root = process.getuid?.() === 0;

async function until(ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.skipIf(!root)('testbed (needs root)', () => {
  it('joins two namespaces with a veth pair that carries traffic between the test hosts', async () => {
    const bed = createTestbed({ prefix: 'wwio' });
    try {
      expect(bed.a.ns).not.toBe(bed.b.ns);
      expect(bed.a.ip).toMatch(/^10\.77\.\d+\.1$/);
      // A datagram from host a must reach a socket bound to host b's address.
      const recv = `const s=require('dgram').createSocket('udp4');s.on('message',m=>{console.log(m.toString());process.exit(0)});s.bind(9000,'${bed.b.ip}',()=>console.log('ready'));setTimeout(()=>process.exit(3),5000)`;
      const child = bed.spawn(bed.b.ns, process.execPath, ['-e', recv], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      await until(() => out.includes('ready'));
      bed.exec(bed.a.ns, process.execPath, ['-e', `require('dgram').createSocket('udp4').send('hello-veth',9000,'${bed.b.ip}',(e,)=>process.exit(e?1:0))`]);
      const code = await new Promise((r) => child.on('exit', r));
      expect(code).toBe(0);
      expect(out).toContain('hello-veth');
      // The veth ends live only inside the namespaces, never in the root namespace.
      expect(leftovers('wwio').veths).toEqual([]);
    } finally {
      bed.destroy();
    }
    expect(leftovers('wwio').namespaces.filter((n) => n.includes(bed.a.ns.split('-')[1]))).toEqual([]);
  });

  it('a bed left by a killed process is swept, and a running process keeps its own', () => {
    const mine = createTestbed({ prefix: 'wwio' });
    try {
      const script = `import { createTestbed } from ${JSON.stringify(artefact('dist/host/testbed.js'))};
        const b = createTestbed({ prefix: 'wwio' }); console.log(b.a.ns); process.kill(process.pid, 'SIGKILL');`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(r.signal).toBe('SIGKILL');
      const orphan = r.stdout.trim();
      expect(leftovers('wwio', 'any').namespaces).toContain(orphan);
      const removed = sweepTestbeds('wwio');
      expect(removed).toContain(orphan);
      expect(leftovers('wwio', 'any').namespaces).not.toContain(orphan);
      expect(leftovers('wwio').namespaces).toContain(mine.a.ns);
    } finally {
      mine.destroy();
    }
  });
});
