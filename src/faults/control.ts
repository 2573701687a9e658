import { request } from 'undici';
import { EnvironmentError, errorMessage } from '../platform/errors.js';
import { parseToxic, type Toxic } from './toxics.js';

/** The admin API answers at once; longer means the proxy is gone or stuck. */
const CONTROL_TIMEOUT_MS = 5_000;

export interface FaultProxyControl {
  /** Sets the toxic, replacing any; undefined removes it. Resolves once the proxy applied it. */
  setToxic(toxic: Toxic | undefined): Promise<void>;
  toxic(): Promise<Toxic | undefined>;
  /** Whether the admin API answers (the proxy listens); false rather than an error. */
  ready(): Promise<boolean>;
  /** Connections open through the proxy now, and accepted since it started. */
  stats(): Promise<{ connections: number; accepted: number; received?: number }>;
  /** Re-points the proxy (new connections go to `upstream`, open ones close). Resolves once it did. */
  setUpstream(upstream: { host: string; port: number }): Promise<void>;
}

/** hactl's side of a fault proxy's admin API (admin.ts), wherever the proxy runs. */
export function faultProxyControl(adminUrl: string): FaultProxyControl {
  const base = adminUrl.replace(/\/+$/, '');

  async function call(method: 'GET' | 'PUT' | 'DELETE', body?: string, resource = '/toxic'): Promise<string> {
    const url = `${base}${resource}`;
    let status: number;
    let text: string;
    try {
      const response = await request(url, {
        method,
        body,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        headersTimeout: CONTROL_TIMEOUT_MS,
        bodyTimeout: CONTROL_TIMEOUT_MS,
        signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      const why = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${CONTROL_TIMEOUT_MS} ms` : errorMessage(error);
      throw new EnvironmentError(`the fault proxy at ${adminUrl} did not take ${method} ${resource}: ${why}; is it still running?`);
    }
    if (status < 200 || status >= 300) {
      throw new EnvironmentError(`the fault proxy at ${adminUrl} refused ${method} ${resource} (HTTP ${status}): ${text.trim() || 'no reason given'}`);
    }
    return text;
  }

  return {
    async setToxic(toxic) {
      await (toxic === undefined ? call('DELETE') : call('PUT', JSON.stringify(toxic)));
    },
    async ready() {
      try {
        const response = await request(`${base}/health`, { signal: AbortSignal.timeout(1_000) });
        await response.body.dump();
        return response.statusCode === 200;
      } catch {
        return false;
      }
    },
    async stats() {
      let body: { connections?: unknown; accepted?: unknown; received?: unknown };
      try {
        const response = await request(`${base}/health`, { signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS) });
        body = (await response.body.json()) as typeof body;
      } catch (error) {
        throw new EnvironmentError(`the fault proxy at ${adminUrl} did not say how many connections it holds: ${errorMessage(error)}`);
      }
      if (typeof body.connections !== 'number' || typeof body.accepted !== 'number') throw new EnvironmentError(`the fault proxy at ${adminUrl} answered GET /health without its connection counts`);
      return { connections: body.connections, accepted: body.accepted, ...(typeof body.received === 'number' ? { received: body.received } : {}) };
    },
    async setUpstream(upstream) {
      await call('PUT', JSON.stringify(upstream), '/upstream');
    },
    async toxic() {
      const text = await call('GET');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = text;
      }
      if (value === null) return undefined;
      const parsed = parseToxic(value);
      if (!parsed.ok) throw new EnvironmentError(`the fault proxy at ${adminUrl} answered GET /toxic with something else than a toxic: ${parsed.reason}`);
      return parsed.toxic;
    },
  };
}
