import { describe, expect, it } from 'vitest';
import { probe, readOutput } from './executables.js';

describe('probes of a program (version probes)', () => {
  it('give its output, stdout and stderr together', async () => {
    expect(await readOutput(process.execPath, ['--version'])).toBe(process.version);
    expect(await probe('/bin/sh', ['-c', 'echo out; echo err >&2'])).toEqual({ output: 'out\nerr', ended: 'exit 0' });
  });

  it('say how a program that failed ended, naming the command, and never throw', async () => {
    const failed = await probe('/bin/sh', ['-c', 'echo broken >&2; exit 127']);
    expect(failed).toMatchObject({ output: 'broken', ended: 'exit 127' });
    expect(failed.failure).toMatch(/exit code 127.*\/bin\/sh -c/);
    const missing = await probe('/nonexistent-hactl-binary', ['--version']);
    expect(missing.failure).toMatch(/ENOENT.*\/nonexistent-hactl-binary --version/);
    expect(missing.ended).toBe('ENOENT');
  });

  it('stop a program that does not answer in time', async () => {
    const startedAt = Date.now();
    const slow = await probe('/bin/sh', ['-c', 'sleep 30'], 300);
    expect(slow.failure).toMatch(/timed out after 300 milliseconds/);
    expect(slow.ended).toBe('timeout');
    expect(Date.now() - startedAt).toBeLessThan(3_000);
  });
});
