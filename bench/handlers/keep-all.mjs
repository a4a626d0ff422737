// Keeps every frame: each becomes a record the main thread's records() hands to the publish sink.
export default (burst) => {
  burst.keepAll();
};
