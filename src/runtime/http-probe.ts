import { request } from 'undici';

/** The status GET url answers within a second, or undefined without an answer. */
async function statusOf(url: string): Promise<number | undefined> {
  return request(url, { signal: AbortSignal.timeout(1_000) })
    .then(async (response) => {
      await response.body.dump();
      return response.statusCode;
    })
    .catch(() => undefined);
}

/** Whether GET url answers 200 within a second: how hactl asks a replica if it is up. */
export async function answers200(url: string): Promise<boolean> {
  return (await statusOf(url)) === 200;
}

/** Whether GET url answers 2xx within a second: readiness of a user's app at its profile's health path. */
export async function answers2xx(url: string): Promise<boolean> {
  const status = await statusOf(url);
  return status !== undefined && status >= 200 && status < 300;
}
