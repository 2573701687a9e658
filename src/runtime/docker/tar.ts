/**
 * Just enough of the tar format to copy a directory between containers through the engine's archive
 * API, which speaks tar both ways: entries of an archive are kept or left out by name (their bytes
 * untouched), and small files are added. Neither image needs tar, nor hactl a dependency for it.
 */

const BLOCK = 512;

export interface TarEntryInfo {
  /** The entry's path as the archive names it (`data/base/1/1259`), without a trailing slash. */
  name: string;
  uid: number;
  gid: number;
}

/** An archive's entries filtered by `keep`, as archive bytes without the end-of-archive blocks (so that more can be appended). */
export function filterTar(archive: Uint8Array, keep: (entry: TarEntryInfo) => boolean): { kept: Buffer; entries: TarEntryInfo[] } {
  const input = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const out: Buffer[] = [];
  const entries: TarEntryInfo[] = [];
  // Headers that describe the entry after them (a PAX or GNU long name): they go wherever it goes.
  let pending: Buffer[] = [];
  let longName: string | undefined;
  let offset = 0;
  while (offset + BLOCK <= input.length) {
    const header = input.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    if (!checksumMatches(header)) throw new Error(`not a tar archive: a header at byte ${offset} has a wrong checksum`);
    const size = numberField(header, 124, 12);
    const span = BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (offset + span > input.length) throw new Error(`a truncated tar archive: an entry at byte ${offset} runs past its end`);
    const whole = input.subarray(offset, offset + span);
    const body = input.subarray(offset + BLOCK, offset + BLOCK + size);
    const type = String.fromCharCode(header[156]!);
    offset += span;
    if (type === 'x') {
      longName = paxPath(body) ?? longName;
      pending.push(whole);
    } else if (type === 'L') {
      longName = cString(body);
      pending.push(whole);
    } else if (type === 'K') {
      pending.push(whole);
    } else if (type === 'g') {
      // A global header applies to every entry after it: always kept.
      out.push(whole);
    } else {
      const prefix = cString(header.subarray(345, 500));
      const name = (longName ?? (prefix ? `${prefix}/${cString(header.subarray(0, 100))}` : cString(header.subarray(0, 100)))).replace(/\/+$/, '');
      const entry = { name, uid: numberField(header, 108, 8), gid: numberField(header, 116, 8) };
      entries.push(entry);
      if (keep(entry)) out.push(...pending, whole);
      pending = [];
      longName = undefined;
    }
  }
  return { kept: Buffer.concat(out), entries };
}

/** One regular file as a tar entry (ustar: names up to 100 bytes). */
export function tarFile(name: string, content: string | Buffer, owner: { uid: number; gid: number; mode: number }): Buffer {
  return tarEntry(name, '0', typeof content === 'string' ? Buffer.from(content, 'utf8') : content, owner);
}

/** An empty directory as a tar entry. */
export function tarDirectory(name: string, owner: { uid: number; gid: number; mode: number }): Buffer {
  return tarEntry(`${name.replace(/\/+$/, '')}/`, '5', Buffer.alloc(0), owner);
}

function tarEntry(name: string, type: '0' | '5', data: Buffer, owner: { uid: number; gid: number; mode: number }): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name over 100 bytes: ${name}`);
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, 'utf8');
  octal(header, 100, 8, owner.mode);
  octal(header, 108, 8, owner.uid);
  octal(header, 116, 8, owner.gid);
  octal(header, 124, 12, data.length);
  octal(header, 136, 12, Math.floor(Date.now() / 1000));
  header.write(type, 156, 1, 'ascii');
  header.write('ustar\u000000', 257, 8, 'ascii');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  const padding = Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK);
  return Buffer.concat([header, data, padding]);
}

/** The two zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

function octal(header: Buffer, at: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, at, width, 'ascii');
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8');
}

/** An octal field, or GNU's base-256 one (high bit set) for values octal cannot hold. */
function numberField(header: Buffer, at: number, width: number): number {
  const field = header.subarray(at, at + width);
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return value;
  }
  const text = cString(field).trim();
  return text ? parseInt(text, 8) : 0;
}

function checksumMatches(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  return numberField(header, 148, 8) === sum;
}

/** The `path` record of a PAX extended header (`<length> path=<value>\n` records). */
function paxPath(body: Buffer): string | undefined {
  let at = 0;
  let path: string | undefined;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space === -1) break;
    const length = parseInt(body.subarray(at, space).toString('ascii'), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = body.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (record.slice(0, equals) === 'path') path = record.slice(equals + 1);
    at += length;
  }
  return path;
}
