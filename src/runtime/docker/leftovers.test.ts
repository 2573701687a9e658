import { describe, expect, it } from 'vitest';
import { leftRunNotice, leftRuns, type Labelled } from './leftovers.js';

const thing = (kind: Labelled['kind'], name: string, run: string, extra: Record<string, string> = {}, running = kind === 'container'): Labelled => ({
  kind,
  name,
  labels: { 'io.hactl.run': run, ...extra },
  running,
});
const gone = (owner: string | undefined) => owner === 'here/1';

describe('runs that left containers or networks on the engine', () => {
  it('reports a run whose owner process is gone, and never the run itself or one whose reaper runs', () => {
    const things = [
      thing('container', 'hactl-aaaa-replica-1', 'aaaa', { 'io.hactl.owner': 'here/1' }),
      thing('network', 'hactl-aaaa', 'aaaa', { 'io.hactl.owner': 'here/1' }),
      // Alive: its reaper runs, whatever its owner label says.
      thing('container', 'hactl-bbbb-redis', 'bbbb', { 'io.hactl.owner': 'here/1' }),
      thing('container', 'hactl-bbbb-reaper', 'bbbb', { 'io.hactl.run.role': 'reaper', 'io.hactl.owner': 'here/1' }),
      thing('container', 'hactl-cccc-redis', 'cccc', { 'io.hactl.owner': 'here/2' }),
      thing('container', 'hactl-own-redis', 'own', { 'io.hactl.owner': 'here/1' }),
    ];
    expect(leftRuns(things, 'own', gone)).toEqual([{ runId: 'aaaa', names: ['container hactl-aaaa-replica-1', 'network hactl-aaaa'] }]);
  });

  it("an older hactl's run (no owner label) counts as gone only when nothing of it runs", () => {
    expect(leftRuns([thing('container', 'hactl-dddd-redis', 'dddd')], 'own', gone)).toEqual([]);
    expect(leftRuns([thing('container', 'hactl-dddd-redis', 'dddd', {}, false), thing('network', 'hactl-dddd', 'dddd')], 'own', gone)).toHaveLength(1);
  });

  it('says what is left and the command that removes it, on one line', () => {
    const names = ['container a', 'container b', 'container c', 'container d', 'container e', 'network n'];
    expect(leftRunNotice({ runId: 'aaaa', names })).toBe(
      'the Docker engine still holds container a, container b, container c, container d and 2 more of run aaaa, which is no longer running: hactl down --run aaaa removes them',
    );
  });
});
