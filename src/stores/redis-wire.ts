import net from 'node:net';

/**
 * One Redis command over a raw socket, and its reply: hactl asks its own servers a few things
 * (INFO, REPLICAOF, DBSIZE) and a client library's connection pool and reconnects would only get
 * in the way of a question to one node that may be dead. Resolves with a simple or bulk string's
 * text, or an integer's; rejects with the server's error or a connection problem.
 */
export function redisCommand(host: string, port: number, args: readonly string[], timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let answer = Buffer.alloc(0);
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`redis on ${host}:${port} did not answer ${args[0]}: ${why}`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`));
    socket.once('error', (error) => fail(error.message));
    socket.once('close', () => fail('the connection closed'));
    socket.once('connect', () => socket.write(encode(args)));
    socket.on('data', (data) => {
      answer = Buffer.concat([answer, data]);
      const reply = parseReply(answer);
      if (reply === undefined) return;
      socket.removeAllListeners('close');
      socket.destroy();
      if (reply.error) reject(new Error(`redis on ${host}:${port} refused ${args[0]}: ${reply.text}`));
      else resolve(reply.text);
    });
  });
}

function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

/** One complete reply of the simple kinds (+, -, :, $), or undefined while more bytes are due. */
export function parseReply(buffer: Buffer): { error: boolean; text: string } | undefined {
  const lineEnd = buffer.indexOf('\r\n');
  if (lineEnd < 0) return undefined;
  const kind = String.fromCharCode(buffer[0]!);
  const line = buffer.subarray(1, lineEnd).toString('utf8');
  if (kind === '+' || kind === ':') return { error: false, text: line };
  if (kind === '-') return { error: true, text: line };
  if (kind === '$') {
    const length = Number(line);
    if (length < 0) return { error: false, text: '' };
    if (buffer.length < lineEnd + 2 + length + 2) return undefined;
    return { error: false, text: buffer.subarray(lineEnd + 2, lineEnd + 2 + length).toString('utf8') };
  }
  return { error: true, text: `an answer of a kind hactl does not read (${kind})` };
}

/** `INFO <section>`'s fields, `name:value` per line. */
export function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}
