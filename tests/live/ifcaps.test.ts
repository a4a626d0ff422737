// `wirewasm info --iface`: capabilities read from the kernel agree with what rtnetlink says
// (through `ip`, a tool we did not write), and XDP probing leaves nothing attached.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { artefact } from '../../host/paths.js';
import { createTestbed } from '../../host/testbed.js';

const root = process.getuid?.() === 0;
const cli = artefact('dist/host/cli/main.js');

describe.skipIf(!root)('interface capabilities (needs root)', () => {
  it('info --iface reports the queues, driver and MAC the kernel has, and XDP modes by trying', () => {
    const bed = createTestbed({ queues: 3 });
    try {
      const out = execFileSync(process.execPath, [cli, 'info', '--iface', bed.a.iface, '--netns', bed.a.ns, '--probe-xdp', '--json'], { encoding: 'utf8' });
      const c = JSON.parse(out).interface;
      const link = JSON.parse(bed.exec(bed.a.ns, 'ip', ['-d', '-j', 'link', 'show', bed.a.iface]))[0];
      expect(c.queues.rx).toBe(link.num_rx_queues);
      expect(c.queues.rx).toBe(3);
      expect(c.mac).toBe(bed.a.mac);
      expect(c.driver).toBe('veth');
      // veth: generic and native XDP work; AF_XDP zero-copy needs a real NIC (docs/native-host.md).
      expect(c.xdp).toMatchObject({ attached: null, generic: true, driver: true, zeroCopy: false });
      expect(c.timestamping.hardwareReceive).toBe(false);
      // Probing left no program behind.
      expect(JSON.parse(bed.exec(bed.a.ns, 'ip', ['-j', 'link', 'show', bed.a.iface]))[0].xdp).toBeUndefined();
      const text = execFileSync(process.execPath, [cli, 'info', '--iface', bed.a.iface, '--netns', bed.a.ns], { encoding: 'utf8' });
      expect(text).toMatch(/queues\s+3 rx \/ 3 tx/);
      expect(text).toMatch(/XDP driver mode\s+not-probed/);
    } finally {
      bed.destroy();
    }
  });
});
