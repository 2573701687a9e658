/**
 * Every promise's value, once all have settled: a failure is thrown only after the others are
 * done, so that nothing still starts containers or processes while the caller cleans up.
 */
export async function settled<T extends unknown[]>(...promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  return allSettledOrThrow(promises) as Promise<T>;
}

/** `Promise.all` that waits for every promise before it throws the first failure. */
export async function allSettledOrThrow<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}
