import net from 'node:net';
import { EnvironmentError } from '../../platform/errors.js';
import { HAPROXY_BACKEND, type AdminAddress } from './config.js';

/** A server's operational state, the first word of HAProxy's `status` column. */
export type ServerState = 'UP' | 'DOWN' | 'MAINT' | 'DRAIN' | 'NOLB' | 'NO CHECK' | 'UNKNOWN';

/** `set server <backend>/<server> state ...`: ready serves, drain serves pinned clients only, maint serves nobody. */
export type AdminState = 'ready' | 'drain' | 'maint';

/** `set server <backend>/<server> health ...`: forces the check result, as if checks had said so. */
export type ForcedHealth = 'up' | 'stopping' | 'down';

export interface ServerStat {
  backend: string;
  server: string;
  state: ServerState;
  /** The status column as HAProxy writes it: "UP", "UP 1/2" (one failed check), "DOWN 1/2", "MAINT (via b/s)". */
  status: string;
  /** scur: requests being served by the server now. */
  current: number;
  /** qcur: requests waiting in the server's queue (only with a server maxconn). */
  queued: number;
  /** check_status: L7OK, L4CON, L7STS, ... ("* " in front while a check runs is stripped). */
  checkStatus: string;
}

/** One change to a server through the runtime API. */
export type ServerChange = { server: string; state: AdminState } | { server: string; health: ForcedHealth };

export interface HaproxyAdmin {
  readonly address: AdminAddress;
  /** One command line (several commands joined by `;` run back to back); resolves with HAProxy's answer. */
  command(line: string): Promise<string>;
  /** The backend's servers from `show stat`. */
  showServers(): Promise<ServerStat[]>;
  setState(server: string, state: AdminState): Promise<void>;
  setHealth(server: string, health: ForcedHealth): Promise<void>;
  /** Several changes on one command line, so HAProxy applies them within microseconds of each other. */
  apply(changes: readonly ServerChange[]): Promise<void>;
}

/** No runtime API call may take longer than this unless the caller says otherwise. */
export const ADMIN_TIMEOUT_MS = 2_000;

/**
 * A client for HAProxy's runtime API on a TCP stats socket: one connection per command line, in
 * HAProxy's non-interactive mode, where it answers and closes. Every call is bounded.
 */
export function haproxyAdmin(address: AdminAddress, options: { backend?: string; timeoutMs?: number } = {}): HaproxyAdmin {
  const backend = options.backend ?? HAPROXY_BACKEND;
  const timeoutMs = options.timeoutMs ?? ADMIN_TIMEOUT_MS;
  const command = (line: string) => send(address, line, timeoutMs);
  const changeCommand = (change: ServerChange) =>
    'state' in change ? `set server ${backend}/${change.server} state ${change.state}` : `set server ${backend}/${change.server} health ${change.health}`;
  const apply = async (changes: readonly ServerChange[]) => {
    if (changes.length === 0) return;
    const line = changes.map(changeCommand).join('; ');
    // Set commands answer nothing on success, and a sentence ("No such server.") otherwise.
    const answer = (await command(line)).trim();
    if (answer !== '') throw new EnvironmentError(`haproxy refused "${line}": ${oneLine(answer)}`);
  };
  return {
    address,
    command,
    async showServers() {
      return parseServerStats(await command('show stat'), backend);
    },
    setState: (server, state) => apply([{ server, state }]),
    setHealth: (server, health) => apply([{ server, health }]),
    apply,
  };
}

function send({ host, port }: AdminAddress, line: string, timeoutMs: number): Promise<string> {
  const where = `haproxy runtime API on ${host}:${port}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(() => finish(new EnvironmentError(`${where} did not answer "${line}" within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => finish());
    socket.once('close', () => finish());
    socket.once('error', (error: NodeJS.ErrnoException) => finish(new EnvironmentError(`${where} failed on "${line}": ${error.code ?? error.message}`)));
    socket.once('connect', () => socket.write(`${line}\n`));
  });
}

/** The servers of `backend` in `show stat` CSV; rows of other proxies, frontends and backends are left out. */
export function parseServerStats(csv: string, backend: string = HAPROXY_BACKEND): ServerStat[] {
  const lines = csv.split('\n').filter((line) => line.trim() !== '');
  const header = lines.find((line) => line.startsWith('# '));
  if (!header) throw new EnvironmentError(`haproxy's show stat answered without a CSV header: ${oneLine(csv).slice(0, 200)}`);
  const columns = parseCsvLine(header.slice(2));
  const at = (name: string) => {
    const index = columns.indexOf(name);
    if (index < 0) throw new EnvironmentError(`haproxy's show stat has no ${name} column`);
    return index;
  };
  const index = { pxname: at('pxname'), svname: at('svname'), status: at('status'), scur: at('scur'), qcur: at('qcur'), type: at('type'), check: at('check_status') };
  const servers: ServerStat[] = [];
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    const fields = parseCsvLine(line);
    // type 2 is a server row (0 frontend, 1 backend, 3 listener).
    if (fields[index.pxname] !== backend || fields[index.type] !== '2') continue;
    const status = fields[index.status] ?? '';
    servers.push({
      backend,
      server: fields[index.svname] ?? '',
      state: serverState(status),
      status,
      current: Number(fields[index.scur]) || 0,
      queued: Number(fields[index.qcur]) || 0,
      checkStatus: (fields[index.check] ?? '').replace(/^\*\s*/, ''),
    });
  }
  return servers;
}

export function serverState(status: string): ServerState {
  const upper = status.trim().toUpperCase();
  if (upper.startsWith('NO CHECK')) return 'NO CHECK';
  const word = upper.split(/\s/)[0];
  return word === 'UP' || word === 'DOWN' || word === 'MAINT' || word === 'DRAIN' || word === 'NOLB' ? word : 'UNKNOWN';
}

/** HAProxy quotes a CSV field that holds a comma or a quote (a check's description can). */
function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else field += char;
  }
  fields.push(field);
  return fields;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
