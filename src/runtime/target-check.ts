import { request } from 'undici';
import { EnvironmentError } from '../platform/errors.js';
import { excerptOf } from './http-probe.js';

/** How long the deployment's health path may take to answer the start check. */
export const TARGET_CHECK_TIMEOUT_MS = 5_000;

/** What the usual network errors mean, in words a user can act on. */
const NO_ANSWER: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed before an answer',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate cannot be verified',
  ERR_TLS_CERT_ALTNAME_INVALID: "its TLS certificate does not name the host",
};

/**
 * Why a request got no answer, as `connection refused (ECONNREFUSED)`: the meaning first, the
 * code after it for searching. A timeout says how long was waited.
 */
export function noAnswerReason(error: unknown, timeoutMs: number): string {
  const err = error as { code?: unknown; name?: unknown; message?: unknown; cause?: { code?: unknown } } | undefined;
  if (err?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const code = typeof err?.code === 'string' ? err.code : typeof err?.cause?.code === 'string' ? err.cause.code : undefined;
  if (code !== undefined) return NO_ANSWER[code] ? `${NO_ANSWER[code]} (${code})` : `${typeof err?.message === 'string' ? err.message : 'no answer'} (${code})`;
  return typeof err?.message === 'string' && err.message ? err.message : String(error);
}

/**
 * The deployment's start check: its health path, through its balancer, answers 2xx. hactl starts
 * nothing on an external deployment, so this is all "started" can mean there; without it a kill
 * command would be fired at a target that does not answer at all. Throws with what was seen:
 * `http://127.0.0.1:1/health: connection refused (ECONNREFUSED)`, or the status and the start
 * of the body.
 */
export async function checkTarget(url: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<{ status: number }> {
  const timeoutMs = options.timeoutMs ?? TARGET_CHECK_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  let status: number;
  let body: string;
  try {
    const response = await request(url, { signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout });
    status = response.statusCode;
    body = await response.body.text();
  } catch (error) {
    options.signal?.throwIfAborted();
    throw new EnvironmentError(`${url}: ${noAnswerReason(timeout.aborted ? timeout.reason : error, timeoutMs)}`);
  }
  if (status < 200 || status >= 300) {
    const excerpt = excerptOf(body);
    throw new EnvironmentError(`${url} answered ${status}${excerpt ? ` ${JSON.stringify(excerpt)}` : ''}, not 2xx`);
  }
  return { status };
}
