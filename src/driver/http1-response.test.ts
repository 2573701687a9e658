import { describe, expect, it } from 'vitest';
import { MAX_HEAD_BYTES, ProtocolError, ResponseParser, type Http1Response } from './http1-response.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');

/** Every answer the parser gives for `wire`, fed in pieces of `size` bytes. */
function parse(wire: Buffer, size = wire.length, end = false): Http1Response[] {
  const parser = new ResponseParser();
  const answers: Http1Response[] = [];
  for (let at = 0; at < wire.length; at += size) {
    const answer = parser.push(wire.subarray(at, at + size));
    if (answer) answers.push(answer);
  }
  if (end) {
    const answer = parser.end();
    if (answer) answers.push(answer);
  }
  return answers;
}

const json = '{"userId":"u0001","userNm":"김민지"}';
const utf8 = Buffer.from(json, 'utf8');
const chunked = Buffer.concat([
  bytes(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Hactl-Replica: app-1\r\nSet-Cookie: a=1; Path=/\r\nset-cookie: b=2\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n`),
  bytes(`a;ext=1\r\n`),
  utf8.subarray(0, 10),
  bytes(`\r\n${(utf8.length - 10).toString(16)}\r\n`),
  utf8.subarray(10),
  bytes('\r\n0\r\nX-Trailer: t\r\n\r\n'),
]);

describe('HTTP/1.1 answers', () => {
  it('reads a chunked answer the same whichever way the bytes are cut, UTF-8 split across pieces included', () => {
    for (const size of [chunked.length, 1, 2, 3, 7, 16, 64]) {
      const [answer, ...more] = parse(chunked, size);
      expect(more, `pieces of ${size}`).toEqual([]);
      expect(answer, `pieces of ${size}`).toEqual({
        status: 200,
        headers: [
          ['content-type', 'application/json'],
          ['x-hactl-replica', 'app-1'],
          ['set-cookie', 'a=1; Path=/'],
          ['set-cookie', 'b=2'],
          ['keep-alive', 'timeout=5'],
          ['transfer-encoding', 'chunked'],
        ],
        body: json,
        keepAlive: true,
        keepAliveTimeout: 5,
      });
    }
  });

  it('reads answers framed by Content-Length one after another on a connection, and skips interim 1xx answers', () => {
    const wire = bytes('HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    for (const size of [wire.length, 1, 5]) {
      const parser = new ResponseParser();
      const answers: Http1Response[] = [];
      // One request at a time: the second answer is pushed once the first is out.
      for (let at = 0; at < wire.length; at += size) {
        let answer = parser.push(wire.subarray(at, at + size));
        while (answer) {
          answers.push(answer);
          answer = parser.leftover > 0 ? parser.push(Buffer.alloc(0)) : undefined;
        }
      }
      expect(answers.map((answer) => [answer.status, answer.body])).toEqual([
        [200, 'hello'],
        [404, ''],
      ]);
    }
  });

  it('reads a body to the end of the connection when nothing frames it, and never reuses that connection', () => {
    const wire = bytes('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end');
    expect(parse(wire, 4)).toEqual([]);
    const [answer] = parse(wire, 4, true);
    expect(answer).toMatchObject({ status: 200, body: 'to the end', keepAlive: false });
    // A Transfer-Encoding other than chunked last also runs to the end (RFC 9112 6.3).
    expect(parse(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz'), 100, true)[0]).toMatchObject({ body: 'zz', keepAlive: false });
  });

  it('knows when a connection may carry the next request', () => {
    const keepAlive = (head: string) => parse(bytes(`${head}\r\nContent-Length: 0\r\n\r\n`))[0]!.keepAlive;
    expect(keepAlive('HTTP/1.1 200 OK')).toBe(true);
    expect(keepAlive('HTTP/1.1 200 OK\r\nConnection: Close')).toBe(false);
    expect(keepAlive('HTTP/1.1 200 OK\r\nConnection: upgrade, close')).toBe(false);
    expect(keepAlive('HTTP/1.0 200 OK')).toBe(false);
    expect(keepAlive('HTTP/1.0 200 OK\r\nConnection: keep-alive')).toBe(true);
  });

  it('takes no body for 204, 304 and answers to HEAD, whatever their headers say', () => {
    expect(parse(bytes('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n'))[0]).toMatchObject({ status: 204, body: '' });
    expect(parse(bytes('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n'))[0]).toMatchObject({ status: 304, body: '' });
    const parser = new ResponseParser();
    parser.expectHead(true);
    expect(parser.push(bytes('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n'))).toMatchObject({ status: 200, body: '' });
  });

  it('decodes the body as UTF-8 and drops a byte-order mark, as fetch().text() does', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8]);
    const [answer] = parse(Buffer.concat([bytes(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body]), 3);
    expect(answer!.body).toBe(json);
  });

  it('refuses what breaks the framing rules, each with a reason', () => {
    const refused = (wire: string) => {
      try {
        parse(bytes(wire));
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
        expect((error as ProtocolError).code).toBe('EPROTO');
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refused('SSH-2.0-OpenSSH\r\n\r\n')).toMatch(/does not start with an HTTP\/1.x status line/);
    expect(refused('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello')).toMatch(/conflicting Content-Length values: 5, 6/);
    expect(refused('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')).toMatch(/invalid Content-Length "-1"/);
    expect(refused('HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n')).toMatch(/invalid header line: "Bad Name: x"/);
    expect(refused('HTTP/1.1 200 OK\r\n folded\r\n\r\n')).toMatch(/invalid header line/);
    expect(refused('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).toMatch(/invalid chunk size "zz"/);
    expect(refused('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY')).toMatch(/did not end with CRLF/);
    expect(refused(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`)).toMatch(/header section is over/);
    // The same length twice (a proxy that joined two fields) is one length.
    expect(refused('HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello')).toBe('accepted');
  });

  it('says when the end of the connection cut an answer short, and counts bytes nobody asked for', () => {
    const parser = new ResponseParser();
    expect(parser.push(bytes('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf'))).toBeUndefined();
    expect(parser.end()).toBeUndefined();

    const extra = new ResponseParser();
    expect(extra.push(bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokjunk'))).toMatchObject({ body: 'ok' });
    expect(extra.leftover).toBe(4);
  });
});
