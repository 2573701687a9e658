import { describe, expect, it } from 'vitest';
import { stopEach } from './teardown.js';

describe('stopEach', () => {
  it('runs every stop, in order, when one before it throws, and says which failed and why', async () => {
    const stopped: string[] = [];
    const failures = await stopEach([
      {
        what: 'the cluster',
        stop: async () => {
          stopped.push('cluster');
          throw new Error('processes of app (process group 41) were still running 5000 ms after SIGKILL');
        },
      },
      { what: 'the store fault proxy', stop: async () => void stopped.push('proxy') },
      { what: 'nothing', stop: () => undefined },
    ]);
    expect(stopped).toEqual(['cluster', 'proxy']);
    expect(failures).toEqual(['stopping the cluster failed: processes of app (process group 41) were still running 5000 ms after SIGKILL']);
  });

  it('reports nothing when every stop succeeds', async () => {
    expect(await stopEach([{ what: 'a', stop: async () => undefined }])).toEqual([]);
  });
});
