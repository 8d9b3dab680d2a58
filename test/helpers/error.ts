/** Relative L2 error of a slice: ||a - b|| / ||b|| over [from, to). */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>, from: number, to: number): number {
  let num = 0;
  let den = 0;
  for (let i = from; i < to; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}
