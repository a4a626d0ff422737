// Keeps every UDP frame: each one reaches engine.records() (and, with --publish, NATS) as a frame record.
export default (burst) => {
  for (let i = 0; i < burst.length; i++) if (burst.packet(i).udp) burst.keep(i);
};
