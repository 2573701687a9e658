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

/** What a GET answered: its status and the start of its body; without a status, why no answer came. */
export interface HttpAnswer {
  status?: number;
  excerpt: string;
}

/** GET url within timeoutMs, for messages that must say what an app answered, not just that it failed. */
export async function answerOf(url: string, timeoutMs: number): Promise<HttpAnswer> {
  try {
    const response = await request(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.statusCode, excerpt: excerptOf(await response.body.text()) };
  } catch (error) {
    return { excerpt: error instanceof Error ? error.message : String(error) };
  }
}

/** The start of a body on one line: enough to recognise an error page or a JSON error. */
export function excerptOf(body: string, chars = 80): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > chars ? `${flat.slice(0, chars)}…` : flat;
}

/** `answered 404 "Not Found"`, or `did not answer (connect ECONNREFUSED …)`. */
export function describeAnswer(answer: HttpAnswer): string {
  return answer.status === undefined ? `did not answer (${answer.excerpt})` : `answered ${answer.status}${answer.excerpt ? ` ${JSON.stringify(answer.excerpt)}` : ''}`;
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
      const answer = await answerOf(url, 1_000);
      last = describeAnswer(answer);
      return answer.status !== undefined && answer.status >= 200 && answer.status < 300;
    },
    last: () => last,
  };
}
