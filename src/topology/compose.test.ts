import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { chooseStrategy, STRATEGY_NAMES, type StrategyChoice } from '../strategies.js';
import { composeFile } from './compose.js';
import { DEFAULT_NODE_IMAGE } from './containers.js';

const choose = (label: string) => chooseStrategy(label) as StrategyChoice;

describe('compose files', () => {
  it.each(STRATEGY_NAMES)('compose/%s.yaml is what the generator makes (else: npm run compose:update)', async (strategy) => {
    const committed = await readFile(new URL(`../../compose/${strategy}.yaml`, import.meta.url), 'utf8');
    expect(committed).toBe(composeFile({ strategy: choose(strategy), replicas: 3, port: 8080, images: {}, buildContext: '..' }));
  });

  it('compose/Dockerfile defaults to the same Node base image as hactl', async () => {
    const dockerfile = await readFile(new URL('../../compose/Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile).toContain(`ARG NODE_IMAGE=${DEFAULT_NODE_IMAGE}\n`);
  });

  it('describes the same topology as the docker runtime: store, replicas, balancer in front', () => {
    const file = parse(composeFile({ strategy: choose('postgres'), replicas: 2, port: 9090, images: { node: 'my/node:20' } })) as {
      services: Record<string, { image: string; environment?: Record<string, string>; depends_on?: string[]; ports?: string[]; stop_signal?: string; build?: { args: Record<string, string> } }>;
    };
    expect(Object.keys(file.services)).toEqual(['postgres', 'replica-1', 'replica-2', 'balancer']);
    expect(file.services.postgres).toMatchObject({ image: 'postgres:16', stop_signal: 'SIGINT', environment: { POSTGRES_HOST_AUTH_METHOD: 'trust' } });
    expect(file.services['replica-2']!.environment).toMatchObject({ HACTL_REPLICA_ID: 'replica-2', HACTL_SESSION_STORE: 'postgres', HACTL_STORE_URL: 'postgres://hactl@postgres:5432/postgres' });
    expect(file.services['replica-1']!.build!.args).toEqual({ NODE_IMAGE: 'my/node:20' });
    const balancer = file.services.balancer!;
    expect(balancer.ports).toEqual(['127.0.0.1:9090:8080']);
    expect(balancer.depends_on).toEqual(['replica-1', 'replica-2']);
    const settings = JSON.parse(balancer.environment!.HACTL_BALANCER_CONFIG!) as { targets: unknown[]; stickiness: { type: string } };
    expect(settings.targets).toEqual([
      { id: 'replica-1', host: 'replica-1', port: 8080 },
      { id: 'replica-2', host: 'replica-2', port: 8080 },
    ]);
    expect(settings.stickiness.type).toBe('off');
  });

  it('gives sticky its AWSALB stickiness and none a plain round robin, without a store', () => {
    const sticky = parse(composeFile({ strategy: choose('sticky'), replicas: 3, port: 8080, images: {} })) as { services: Record<string, { environment: Record<string, string> }> };
    expect(Object.keys(sticky.services)).toEqual(['replica-1', 'replica-2', 'replica-3', 'balancer']);
    expect(JSON.parse(sticky.services.balancer!.environment.HACTL_BALANCER_CONFIG!).stickiness).toEqual({ type: 'lb_cookie', cookieName: 'AWSALB', durationSeconds: 86_400 });
  });

  it('writes redis:replica as nodes with --replicaof through the primary\'s link, the endpoint, and apps wired to the endpoint; says no failover runs', () => {
    const text = composeFile({ strategy: choose('redis:replica-wait'), replicas: 2, port: 8080, images: { redis: 'my/redis:7' }, storeReplicas: 2 });
    const file = parse(text) as { services: Record<string, { image: string; command: string[]; environment?: Record<string, string>; depends_on?: string[] }> };
    expect(Object.keys(file.services)).toEqual(['redis-node-1', 'redis-node-2', 'redis-node-3', 'redis-link-node-1', 'redis-link-node-2', 'redis-link-node-3', 'redis-primary', 'replica-1', 'replica-2', 'balancer']);
    expect(file.services['redis-node-1']!.image).toBe('my/redis:7');
    expect(file.services['redis-node-1']!.command).not.toContain('--replicaof');
    for (const node of ['redis-node-2', 'redis-node-3']) expect(file.services[node]!.command.slice(-3), node).toEqual(['--replicaof', 'redis-link-node-1', '7000']);
    expect(file.services['redis-link-node-2']!.environment).toMatchObject({ HACTL_FAULT_PROXY_UPSTREAM: 'redis-node-2:6379' });
    expect(file.services['redis-primary']!.environment).toMatchObject({ HACTL_FAULT_PROXY_UPSTREAM: 'redis-node-1:6379' });
    expect(file.services['replica-1']!.environment).toMatchObject({ HACTL_STORE_URL: 'redis://redis-primary:7000', HACTL_STORE_WAIT_REPLICAS: '1' });
    expect(file.services['replica-1']!.depends_on).toEqual(['redis-primary']);
    expect(text).toMatch(/^# The failover is hactl's .*none runs under compose/m);
    expect(text).toContain('--store-replicas 2');
  });
});

describe('redis:sentinel in a compose file', () => {
  it('writes the nodes announcing their links, three Sentinels that find the primary by its link\'s service name, and apps asking the Sentinels', () => {
    const text = composeFile({ strategy: choose('redis:sentinel'), replicas: 2, port: 8080, images: { redis: 'my/redis:7' } });
    const file = parse(text) as { services: Record<string, { image: string; command: string[]; environment?: Record<string, string>; depends_on?: string[] }> };
    expect(Object.keys(file.services)).toEqual(['redis-node-1', 'redis-node-2', 'redis-link-node-1', 'redis-link-node-2', 'redis-sentinel-1', 'redis-sentinel-2', 'redis-sentinel-3', 'replica-1', 'replica-2', 'balancer']);
    expect(file.services['redis-node-2']!.command.slice(-4)).toEqual(['--replica-announce-ip', 'redis-link-node-2', '--replica-announce-port', '7000']);
    const sentinel = file.services['redis-sentinel-2']!;
    expect(sentinel.image).toBe('my/redis:7');
    expect(sentinel.depends_on).toEqual(['redis-node-1', 'redis-link-node-1']);
    expect(sentinel.environment!.HACTL_SENTINEL_CONFIG).toContain('sentinel monitor hactl redis-link-node-1 7000 2\n');
    // Compose substitutes $VARIABLE itself: the container's shell must get the `$`.
    expect(text).toContain('"$$HACTL_SENTINEL_CONFIG"');
    expect(sentinel.command.at(-1)).toContain('"$$HACTL_SENTINEL_CONFIG" > /tmp/sentinel.conf');
    expect(file.services['replica-1']!.environment!.HACTL_STORE_URL).toBe('redis-sentinel://redis-sentinel-1:26379,redis-sentinel-2:26379,redis-sentinel-3:26379/hactl?map=redis-link-node-1:7000>redis-node-1:6379,redis-link-node-2:7000>redis-node-2:6379');
    expect(file.services['replica-2']!.depends_on).toEqual(['redis-sentinel-1', 'redis-sentinel-2', 'redis-sentinel-3']);
    expect(text).not.toContain('*a1');
    expect(text).toMatch(/^# The Sentinels fail over by themselves/m);
  });
});

describe('mongo replica sets in a compose file', () => {
  it('writes three mongod --replSet members, a one-shot mongo-init that initiates the set with mongosh, and apps given the set and the write concern', () => {
    const text = composeFile({ strategy: choose('mongo:replica-set-majority'), replicas: 2, port: 8080, images: {} });
    const file = parse(text) as { services: Record<string, { image: string; command: string[]; environment?: Record<string, string>; depends_on?: string[]; restart?: string }> };
    expect(Object.keys(file.services)).toEqual(['mongo-node-1', 'mongo-node-2', 'mongo-node-3', 'mongo-init', 'replica-1', 'replica-2', 'balancer']);
    for (const member of ['mongo-node-1', 'mongo-node-2', 'mongo-node-3']) {
      expect(file.services[member]!.image).toBe('mongo:7');
      expect(file.services[member]!.command).toEqual(expect.arrayContaining(['mongod', '--replSet', 'hactl', '--bind_ip', '0.0.0.0']));
    }
    const init = file.services['mongo-init']!;
    expect(init.image).toBe('mongo:7');
    expect(init.restart).toBe('no');
    expect(init.depends_on).toEqual(['mongo-node-1', 'mongo-node-2', 'mongo-node-3']);
    const script = init.command.at(-1)!;
    expect(script).toContain('mongosh --quiet --host mongo-node-1:27017');
    expect(script).toContain('"members":[{"_id":0,"host":"mongo-node-1:27017"},{"_id":1,"host":"mongo-node-2:27017"},{"_id":2,"host":"mongo-node-3:27017"}]');
    // The loop's $(seq ...) is the container shell's, not Compose's.
    expect(script).toMatch(/^for attempt in \$\$\(seq 1 60\)/);
    expect(file.services['replica-1']!.environment!.HACTL_STORE_URL).toBe('mongodb://mongo-node-1:27017,mongo-node-2:27017,mongo-node-3:27017/hactl?replicaSet=hactl&w=majority');
    expect(file.services['replica-1']!).toMatchObject({ depends_on: ['mongo-init'], restart: 'on-failure' });
    expect(text).toMatch(/^# The store is a MongoDB replica set "hactl" of 3 members/m);
    expect(parse(composeFile({ strategy: choose('mongo:replica-set'), replicas: 1, port: 8080, images: {} })).services['replica-1'].environment.HACTL_STORE_URL).toMatch(/&w=1$/);
  });
});

describe("compose files that work wherever they are saved", () => {
  it("build the demo app from the hactl package's own folder, by absolute path", () => {
    const file = parse(composeFile({ strategy: choose('redis'), replicas: 1, port: 8080, images: {} })) as { services: Record<string, { build?: { context: string; dockerfile: string } }> };
    const context = file.services['replica-1']!.build!.context;
    expect(context).toBe(fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, ''));
    expect(existsSync(path.join(context, file.services['replica-1']!.build!.dockerfile))).toBe(true);
  });

  it("describe a user's app as images only: its image with PORT, HOST and the templated --app-env, HAProxy in front on its health path", () => {
    const text = composeFile({
      strategy: choose('redis'),
      replicas: 2,
      port: 9090,
      images: { haproxy: 'my/haproxy:2.6' },
      custom: { image: 'shop:1.4', env: { SPRING_DATA_REDIS_URL: '{redisUrl}', REPLICA: '{replica}' }, healthPath: '/actuator/health', containerPort: 3000 },
      cookieName: 'SESSION',
    });
    const file = parse(text) as { services: Record<string, { image: string; command?: string[]; build?: unknown; environment?: Record<string, string>; ports?: string[] }> };
    expect(Object.keys(file.services)).toEqual(['redis', 'replica-1', 'replica-2', 'balancer']);
    expect(Object.values(file.services).filter((entry) => entry.build !== undefined)).toEqual([]);
    expect(file.services['replica-2']!.command).toBeUndefined();
    expect(file.services['replica-2']).toMatchObject({ image: 'shop:1.4', environment: { PORT: '3000', HOST: '0.0.0.0', SPRING_DATA_REDIS_URL: 'redis://redis:6379', REPLICA: 'replica-2' } });
    expect(file.services.balancer!.image).toBe('my/haproxy:2.6');
    // The container's shell reads the config from its environment, not Compose from the host's.
    expect(file.services.balancer!.command!.join(' ')).toContain('"$$HACTL_HAPROXY_CONFIG"');
    expect(file.services.balancer!.ports).toEqual(['127.0.0.1:9090:8080']);
    const config = file.services.balancer!.environment!.HACTL_HAPROXY_CONFIG!;
    expect(config).toMatch(/option httpchk GET \/actuator\/health/);
    expect(config).toMatch(/server replica-2 replica-2:3000/);
    expect(text).toMatch(/^# Your app's image shop:1\.4 runs as each replica/m);
    expect(text).toMatch(/^#   docker compose -p hactl-redis -f redis\.yaml up$/m);
  });
});

