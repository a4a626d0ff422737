// The bench's per-burst handler: touches every frame's metadata once (its mark), nothing more.
let sum = 0;
export default (burst) => {
  for (let i = 0; i < burst.length; i++) sum += burst.mark(i);
  return undefined;
};
