import { describe, expect, it } from 'vitest';
import { chooseStrategy, type StrategyChoice } from '../strategies.js';
import { fillReplicaTemplate, planTopology, replicaTemplateValues, unknownReplicaFields } from './plan.js';

const choice = (name: string) => chooseStrategy(name) as StrategyChoice;

describe('replica templates', () => {
  it('fills the replica\'s address and its store\'s, leaving other stores empty', () => {
    const topology = planTopology(choice('redis'), { replicas: 2, balancerPort: 0 });
    const values = replicaTemplateValues(topology, topology.replicas[1]!, { host: '127.0.0.1', port: 4100 }, 'redis://127.0.0.1:6390');
    expect(values).toEqual({
      port: '4100',
      host: '127.0.0.1',
      replica: 'replica-2',
      strategy: 'redis',
      storeUrl: 'redis://127.0.0.1:6390',
      redisUrl: 'redis://127.0.0.1:6390',
      redisHost: '127.0.0.1',
      redisPort: '6390',
      postgresUrl: '',
      mongoUrl: '',
    });
    expect(fillReplicaTemplate('php -S {host}:{port} -d x={{literal}} {redisUrl}', values)).toBe('php -S 127.0.0.1:4100 -d x={literal} redis://127.0.0.1:6390');
  });

  it('leaves every store field empty for a strategy without a store', () => {
    const topology = planTopology(choice('sticky'), { replicas: 1, balancerPort: 0 });
    const values = replicaTemplateValues(topology, topology.replicas[0]!, { host: '127.0.0.1', port: 4100 }, undefined);
    expect([values.storeUrl, values.redisUrl, values.redisHost, values.redisPort, values.postgresUrl, values.mongoUrl]).toEqual(['', '', '', '', '', '']);
  });

  it('names unknown fields and ignores escaped braces', () => {
    expect(unknownReplicaFields('{port} {{json}} {replica} {prot} {db}')).toEqual(['prot', 'db']);
  });

  it('app_cookie stickiness follows the app profile\'s cookie', () => {
    const topology = planTopology(choice('sticky:app_cookie'), { replicas: 1, balancerPort: 0, cookieName: 'PHPSESSID' });
    expect(topology.balancer.stickiness).toMatchObject({ type: 'app_cookie', appCookieName: 'PHPSESSID' });
    expect(topology.app.cookieName).toBe('PHPSESSID');
  });
});
