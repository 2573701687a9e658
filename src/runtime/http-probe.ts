import { request } from 'undici';

/** Whether GET url answers 200 within a second: how hactl asks a replica if it is up. */
export function answers200(url: string): Promise<boolean> {
  return request(url, { signal: AbortSignal.timeout(1_000) })
    .then(async (response) => {
      await response.body.dump();
      return response.statusCode === 200;
    })
    .catch(() => false);
}

/** Whether GET url answers 2xx within a second: readiness of a user's app at its profile's health path. */
export function answers2xx(url: string): Promise<boolean> {
  return request(url, { signal: AbortSignal.timeout(1_000) })
    .then(async (response) => {
      await response.body.dump();
      return response.statusCode >= 200 && response.statusCode < 300;
    })
    .catch(() => false);
}
