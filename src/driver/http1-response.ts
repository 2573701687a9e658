import { HTTP_TOKEN } from '../platform/http-token.js';

/**
 * Reads HTTP/1.1 answers off a connection's bytes (RFC 9112): the status line, the header
 * fields, and the body framed by Transfer-Encoding: chunked, Content-Length, or the end of the
 * connection; interim 1xx answers are skipped. It knows nothing of sockets: bytes go in with
 * `push`, the end of the connection with `end`, and a whole answer comes out.
 *
 * Bytes are held as a latin1 string (one character per byte), on which searching and slicing
 * cost a fraction of what the same on Buffers does; only the body is decoded as UTF-8, and only
 * when it holds a byte above 0x7f.
 */
export interface Http1Response {
  status: number;
  /** Header fields in order, names in lower case, values without surrounding whitespace. */
  headers: [string, string][];
  /** Decoded as UTF-8, a byte-order mark skipped (as fetch's text() does). */
  body: string;
  /** The connection may carry another request (HTTP/1.1 without `Connection: close`, or 1.0 with keep-alive). */
  keepAlive: boolean;
  /** The seconds of idleness the server allows (`Keep-Alive: timeout=N`), when it says. */
  keepAliveTimeout: number | undefined;
}

/** The answer broke HTTP/1.1's rules: the connection cannot be trusted for another request. */
export class ProtocolError extends Error {
  readonly code = 'EPROTO';
}

/** The most a status line and header section may take, as Node's own server allows by default. */
export const MAX_HEAD_BYTES = 16 * 1024;

type Head = Omit<Http1Response, 'body'>;
type Framing = { kind: 'length'; remaining: number } | { kind: 'chunked'; state: 'size' | 'data' | 'crlf' | 'trailers'; remaining: number } | { kind: 'close' };

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: |$)/;
const CHUNK_SIZE = /^[0-9A-Fa-f]{1,12}$/;
const CONTENT_LENGTH = /^\d{1,15}$/;
const KEEP_ALIVE_TIMEOUT = /timeout=(\d+)/;
const NOT_ASCII = /[^\x00-\x7f]/;

/** HTTP_TOKEN as a table of ASCII codes, for checking every answer's header names without a regular expression per line. */
const TCHAR = Uint8Array.from({ length: 128 }, (_, code) => (HTTP_TOKEN.test(String.fromCharCode(code)) ? 1 : 0));

export class ResponseParser {
  private pending = '';
  private head: Head | undefined;
  private framing: Framing | undefined;
  private body = '';
  private noBody = false;

  /** The next answer is to a HEAD request (no body, whatever its headers say). */
  expectHead(head: boolean): void {
    this.noBody = head;
  }

  /** Bytes that arrived after the last whole answer (a server that sent more than was asked). */
  get leftover(): number {
    return this.pending.length;
  }

  /** Takes the next bytes; returns the answer once it is whole. Throws ProtocolError. */
  push(chunk: Buffer): Http1Response | undefined {
    const text = chunk.toString('latin1');
    this.pending = this.pending.length === 0 ? text : this.pending + text;
    for (;;) {
      if (!this.head) {
        const end = this.pending.indexOf('\r\n\r\n');
        if (end < 0 || end > MAX_HEAD_BYTES) {
          if (end > MAX_HEAD_BYTES || this.pending.length > MAX_HEAD_BYTES) throw new ProtocolError(`the answer's header section is over ${MAX_HEAD_BYTES} bytes`);
          return undefined;
        }
        const parsed = parseHead(this.pending.slice(0, end));
        this.pending = this.pending.slice(end + 4);
        // 1xx answers are interim (100 Continue, 103 Early Hints): the final answer follows.
        if (parsed.head.status < 200) continue;
        this.head = parsed.head;
        this.framing = this.noBody || parsed.head.status === 204 || parsed.head.status === 304 ? { kind: 'length', remaining: 0 } : parsed.framing;
        if (this.framing.kind === 'close') this.head.keepAlive = false;
      }
      return this.readBody() ? this.finish() : undefined;
    }
  }

  /** The connection ended: the answer it completes (a body that runs to the end), or undefined if it cut one short. */
  end(): Http1Response | undefined {
    if (!this.head || this.framing?.kind !== 'close') return undefined;
    this.body += this.pending;
    this.pending = '';
    return this.finish();
  }

  private finish(): Http1Response {
    const { status, headers, keepAlive, keepAliveTimeout } = this.head!;
    const response: Http1Response = { status, headers, body: decodeUtf8(this.body), keepAlive, keepAliveTimeout };
    this.head = undefined;
    this.framing = undefined;
    this.body = '';
    this.noBody = false;
    return response;
  }

  /** Moves body bytes out of `pending`; true once the body is whole. */
  private readBody(): boolean {
    const framing = this.framing!;
    if (framing.kind === 'close') {
      this.body += this.pending;
      this.pending = '';
      return false;
    }
    if (framing.kind === 'length') return this.take(framing);
    for (;;) {
      switch (framing.state) {
        case 'size': {
          const line = this.pending.indexOf('\r\n');
          if (line < 0) {
            if (this.pending.length > MAX_HEAD_BYTES) throw new ProtocolError('a chunk size line of the answer is too long');
            return false;
          }
          // Chunk extensions (after ';') carry nothing hactl reads.
          const sizeLine = this.pending.slice(0, line);
          const semicolon = sizeLine.indexOf(';');
          const sizeText = (semicolon >= 0 ? sizeLine.slice(0, semicolon) : sizeLine).trim();
          if (!CHUNK_SIZE.test(sizeText)) throw new ProtocolError(`the answer has an invalid chunk size "${sizeText.slice(0, 20)}"`);
          this.pending = this.pending.slice(line + 2);
          framing.remaining = parseInt(sizeText, 16);
          framing.state = framing.remaining === 0 ? 'trailers' : 'data';
          break;
        }
        case 'data':
          if (!this.take(framing)) return false;
          framing.state = 'crlf';
          break;
        case 'crlf':
          if (this.pending.length < 2) return false;
          if (!this.pending.startsWith('\r\n')) throw new ProtocolError('a chunk of the answer did not end with CRLF');
          this.pending = this.pending.slice(2);
          framing.state = 'size';
          break;
        case 'trailers': {
          // Trailer fields, if any, end with an empty line; hactl reads none of them.
          if (this.pending.startsWith('\r\n')) {
            this.pending = this.pending.slice(2);
            return true;
          }
          const end = this.pending.indexOf('\r\n\r\n');
          if (end < 0) {
            if (this.pending.length > MAX_HEAD_BYTES) throw new ProtocolError(`the answer's trailer section is over ${MAX_HEAD_BYTES} bytes`);
            return false;
          }
          this.pending = this.pending.slice(end + 4);
          return true;
        }
      }
    }
  }

  /** Moves up to `remaining` bytes into the body; true once none remain. */
  private take(framing: { remaining: number }): boolean {
    const count = Math.min(framing.remaining, this.pending.length);
    if (count > 0) {
      this.body = this.body.length === 0 ? this.pending.slice(0, count) : this.body + this.pending.slice(0, count);
      this.pending = this.pending.slice(count);
      framing.remaining -= count;
    }
    return framing.remaining === 0;
  }
}

function parseHead(text: string): { head: Head; framing: Framing } {
  let lineEnd = text.indexOf('\r\n');
  const statusLine = lineEnd < 0 ? text : text.slice(0, lineEnd);
  const status = STATUS_LINE.exec(statusLine);
  if (!status) throw new ProtocolError(`the answer does not start with an HTTP/1.x status line: "${statusLine.slice(0, 80)}"`);
  const headers: [string, string][] = [];
  let close = false;
  let keepAliveToken = false;
  let keepAliveTimeout: number | undefined;
  let lastCoding: string | undefined;
  let contentLength: string | undefined;
  while (lineEnd >= 0) {
    const start = lineEnd + 2;
    lineEnd = text.indexOf('\r\n', start);
    const line = lineEnd < 0 ? text.slice(start) : text.slice(start, lineEnd);
    const colon = line.indexOf(':');
    if (colon <= 0 || !isToken(line, colon)) throw new ProtocolError(`the answer has an invalid header line: "${line.slice(0, 80)}"`);
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.push([name, value]);
    switch (name) {
      case 'connection':
        for (const token of value.toLowerCase().split(',')) {
          if (token.trim() === 'close') close = true;
          else if (token.trim() === 'keep-alive') keepAliveToken = true;
        }
        break;
      case 'keep-alive': {
        const timeout = KEEP_ALIVE_TIMEOUT.exec(value);
        if (timeout) keepAliveTimeout = Number(timeout[1]);
        break;
      }
      case 'transfer-encoding': {
        const codings = value.toLowerCase().split(',');
        const last = codings[codings.length - 1]!.trim();
        if (last !== '') lastCoding = last;
        break;
      }
      case 'content-length':
        for (const part of value.split(',')) {
          const length = part.trim();
          if (contentLength !== undefined && contentLength !== length) throw new ProtocolError(`the answer has conflicting Content-Length values: ${contentLength}, ${length}`);
          contentLength = length;
        }
        break;
    }
  }
  const keepAlive = status[1] === '1' ? !close : keepAliveToken && !close;
  const head: Head = { status: Number(status[2]), headers, keepAlive, keepAliveTimeout };
  // RFC 9112 section 6.3: chunked if it is the last coding, else to the end; else Content-Length; else to the end.
  if (lastCoding !== undefined) return { head, framing: lastCoding === 'chunked' ? { kind: 'chunked', state: 'size', remaining: 0 } : { kind: 'close' } };
  if (contentLength === undefined) return { head, framing: { kind: 'close' } };
  if (!CONTENT_LENGTH.test(contentLength)) throw new ProtocolError(`the answer has an invalid Content-Length "${contentLength.slice(0, 20)}"`);
  return { head, framing: { kind: 'length', remaining: Number(contentLength) } };
}

function isToken(line: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const code = line.charCodeAt(i);
    if (code >= 128 || TCHAR[code] === 0) return false;
  }
  return true;
}

/** A latin1 string of bytes as UTF-8 text; ASCII is the same either way, so most bodies skip the decoding. */
function decodeUtf8(bytes: string): string {
  if (!NOT_ASCII.test(bytes)) return bytes;
  const buffer = Buffer.from(bytes, 'latin1');
  const start = buffer.length > 2 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0;
  return buffer.toString('utf8', start);
}
