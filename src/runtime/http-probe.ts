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

/**
 * A readiness probe for a user's app that remembers its last answer, so that an app that never
 * became ready is reported with what its health path said (`404 "Not Found"`), not just a
 * timeout.
 */
export function healthProbe(url: string): { probe: () => Promise<boolean>; last: () => string } {
  let last = 'no answer yet';
  return {
    async probe() {
      try {
        const response = await request(url, { signal: AbortSignal.timeout(1_000) });
        const body = (await response.body.text()).replace(/\s+/g, ' ').trim();
        last = `answered ${response.statusCode}${body ? ` ${JSON.stringify(body.length > 80 ? `${body.slice(0, 80)}…` : body)}` : ''}`;
        return response.statusCode >= 200 && response.statusCode < 300;
      } catch (error) {
        last = `did not answer (${error instanceof Error ? error.message : String(error)})`;
        return false;
      }
    },
    last: () => last,
  };
}
