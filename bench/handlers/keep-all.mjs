// Keeps every frame: each becomes a record the main thread's records() hands to the publish sink.
export default (burst) => {
  for (let i = 0; i < burst.length; i++) burst.keep(i);
};
