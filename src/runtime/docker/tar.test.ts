import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filterTar, TAR_END, tarDirectory, tarFile } from './tar.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'hactl-tar-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const longDir = 'd'.repeat(60);
const longFile = 'f'.repeat(70);

/** A data directory archived by GNU tar in `format`, as `data/...` (the engine's archive names the directory too). */
function archive(format: 'pax' | 'gnu' | 'ustar'): Buffer {
  const root = path.join(scratch, format, 'data');
  mkdirSync(path.join(root, 'pg_wal'), { recursive: true });
  mkdirSync(path.join(root, 'base', longDir), { recursive: true });
  writeFileSync(path.join(root, 'PG_VERSION'), '17\n');
  writeFileSync(path.join(root, 'postmaster.pid'), '1\n');
  writeFileSync(path.join(root, 'pg_wal', '000000010000000000000001'), 'x'.repeat(1500));
  writeFileSync(path.join(root, 'base', longDir, longFile), 'kept, long name');
  return execFileSync('tar', ['-C', path.dirname(root), `--format=${format}`, '--owner=999', '--group=998', '--numeric-owner', '-cf', '-', 'data']);
}

function list(tar: Buffer): string[] {
  return execFileSync('tar', ['-tf', '-'], { input: tar }).toString().split('\n').filter(Boolean).map((name) => name.replace(/\/$/, '')).sort();
}

describe('filterTar', () => {
  it.each(['pax', 'gnu', 'ustar'] as const)('keeps and leaves out entries by name in a %s archive, long names too, and tar reads what is left', (format) => {
    const source = archive(format);
    const { kept, entries } = filterTar(source, ({ name }) => !name.endsWith('postmaster.pid') && !name.startsWith('data/pg_wal/'));
    expect(entries.map((entry) => entry.name).sort()).toEqual(list(source));
    expect(entries.every((entry) => entry.uid === 999 && entry.gid === 998)).toBe(true);
    const result = Buffer.concat([kept, TAR_END]);
    expect(list(result)).toEqual(['data', 'data/PG_VERSION', 'data/base', `data/base/${longDir}`, `data/base/${longDir}/${longFile}`, 'data/pg_wal'].sort());
    expect(execFileSync('tar', ['-xOf', '-', `data/base/${longDir}/${longFile}`], { input: result }).toString()).toBe('kept, long name');
  });

  it('refuses what is not a tar archive, and a truncated one', () => {
    expect(() => filterTar(Buffer.alloc(512, 7), () => true)).toThrow(/wrong checksum/);
    const source = archive('pax');
    const firstFile = source.indexOf(Buffer.from('data/PG_VERSION'));
    expect(() => filterTar(source.subarray(0, firstFile + 512 + 10), () => true)).toThrow(/truncated/);
  });
});

describe('tarFile', () => {
  it('appends files that tar extracts with their content, owner and mode', () => {
    const kept = filterTar(archive('pax'), () => true).kept;
    const added = Buffer.concat([kept, tarFile('data/backup_label', 'START WAL LOCATION: 0/2000028\n', { uid: 999, gid: 998, mode: 0o600 }), tarFile('data/standby.signal', '', { uid: 999, gid: 998, mode: 0o600 }), TAR_END]);
    expect(list(added)).toContain('data/backup_label');
    expect(list(added)).toContain('data/standby.signal');
    expect(execFileSync('tar', ['-xOf', '-', 'data/backup_label'], { input: added }).toString()).toBe('START WAL LOCATION: 0/2000028\n');
    const verbose = execFileSync('tar', ['--numeric-owner', '-tvf', '-', 'data/backup_label'], { input: added }).toString();
    expect(verbose).toMatch(/^-rw------- 999\/998 /);
  });

  it('adds empty directories', () => {
    const added = Buffer.concat([tarDirectory('pg_wal', { uid: 999, gid: 999, mode: 0o700 }), tarFile('pg_wal/.keep', '', { uid: 999, gid: 999, mode: 0o600 }), TAR_END]);
    expect(list(added)).toEqual(['pg_wal', 'pg_wal/.keep']);
    expect(execFileSync('tar', ['--numeric-owner', '-tvf', '-', 'pg_wal/'], { input: added }).toString()).toMatch(/^drwx------ 999\/999 /);
  });

  it('refuses a name ustar cannot hold', () => {
    expect(() => tarFile('x'.repeat(101), '', { uid: 0, gid: 0, mode: 0o600 })).toThrow(/over 100 bytes/);
  });
});
