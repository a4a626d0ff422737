// Free loopback ports picked at run time (other test runs on the machine use ports too).
import dgram from 'node:dgram';

/** A UDP port free on 127.0.0.1 right now (bound, read, released). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  const port = s.address().port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}
