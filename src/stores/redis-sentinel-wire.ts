import net from 'node:net';

/** A RESP2 reply as Sentinel gives them: SENTINEL MASTER is an array of name/value strings. */
export type RespValue = string | number | null | RespValue[] | { error: string };

/**
 * One complete RESP2 reply from `offset`, with where it ends, or undefined while more bytes are
 * due. redis-wire.ts reads the simple kinds; Sentinel's answers are arrays.
 */
export function parseResp(buffer: Buffer, offset = 0): { value: RespValue; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const kind = String.fromCharCode(buffer[offset]!);
  const line = buffer.subarray(offset + 1, lineEnd).toString('utf8');
  const next = lineEnd + 2;
  switch (kind) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: { error: line }, end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.subarray(next, next + length).toString('utf8'), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseResp(buffer, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      return { value: { error: `an answer of a kind hactl does not read (${kind})` }, end: buffer.length };
  }
}

/** A flat name/value array (SENTINEL MASTER's answer) as a map; non-string entries are skipped. */
export function fieldsOf(value: RespValue): Map<string, string> {
  const fields = new Map<string, string>();
  if (!Array.isArray(value)) return fields;
  for (let i = 0; i + 1 < value.length; i += 2) {
    const [name, field] = [value[i], value[i + 1]];
    if (typeof name === 'string' && (typeof field === 'string' || typeof field === 'number')) fields.set(name, String(field));
  }
  return fields;
}

/**
 * What one Sentinel says of the primary it monitors under a name (SENTINEL MASTER): the address it
 * names as primary, whether it holds that primary objectively down (a quorum agreed), and how many
 * replicas and fellow Sentinels it knows.
 */
export interface SentinelView {
  address: string;
  objectivelyDown: boolean;
  replicas: number;
  otherSentinels: number;
  /** The configuration's epoch: after a failover, the Sentinel with the highest knows the newest primary. */
  configEpoch: number;
}

export function sentinelView(fields: ReadonlyMap<string, string>): SentinelView | undefined {
  const ip = fields.get('ip');
  const port = fields.get('port');
  if (!ip || !port) return undefined;
  return {
    address: `${ip}:${port}`,
    objectivelyDown: (fields.get('flags') ?? '').split(',').includes('o_down'),
    replicas: Number(fields.get('num-slaves') ?? 0),
    otherSentinels: Number(fields.get('num-other-sentinels') ?? 0),
    configEpoch: Number(fields.get('config-epoch') ?? 0),
  };
}

/**
 * What the Sentinels say together: the primary named by the newest configuration (a Sentinel that
 * has not heard of a failover yet still names the old one), and whether any holds `primary`
 * objectively down: only the Sentinels that gathered a quorum's votes set o_down, and the leader
 * may fail over before the others do.
 */
export function combineViews(views: ReadonlyArray<SentinelView | undefined>, primary: string): { address: string; primaryDown: boolean } | undefined {
  const answered = views.filter((view): view is SentinelView => view !== undefined);
  if (answered.length === 0) return undefined;
  const newest = answered.reduce((best, view) => (view.configEpoch > best.configEpoch ? view : best));
  return { address: newest.address, primaryDown: answered.some((view) => view.address === primary && view.objectivelyDown) };
}

/** One command over a raw socket, answered with any RESP2 reply; a server error rejects. */
export function respCommand(host: string, port: number, args: readonly string[], timeoutMs = 1_000): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let answer = Buffer.alloc(0);
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`${host}:${port} did not answer ${args.slice(0, 2).join(' ')}: ${why}`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`));
    socket.once('error', (error) => fail(error.message));
    socket.once('close', () => fail('the connection closed'));
    socket.once('connect', () => socket.write(`*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`));
    socket.on('data', (data) => {
      answer = Buffer.concat([answer, data]);
      const reply = parseResp(answer);
      if (!reply) return;
      socket.removeAllListeners('close');
      socket.destroy();
      const { value } = reply;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) reject(new Error(`${host}:${port} refused ${args.slice(0, 2).join(' ')}: ${value.error}`));
      else resolve(value);
    });
  });
}
