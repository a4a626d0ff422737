// Small text helpers shared by the commands.
export const hex = (n: number, width = 8) => '0x' + n.toString(16).padStart(width, '0');

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1 && n % 1024 === 0) (n /= 1024), i++;
  return `${n} ${units[i]}`;
}

/** Left-aligned columns: rows of cells, padded to the widest cell of each column. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n');
}
