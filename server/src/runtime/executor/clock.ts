/** Epoch milliseconds with sub-millisecond precision, comparable between the pool and its executors. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
