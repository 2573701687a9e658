import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { chooseStrategy, type StrategyChoice } from '../strategies.js';
import { composeFile } from './compose.js';

type Services = Record<string, { image: string; command: string[]; environment?: Record<string, string>; depends_on?: string[]; stop_signal?: string }>;
const compose = (label: string, storeReplicas?: number) =>
  composeFile({ strategy: chooseStrategy(label) as StrategyChoice, replicas: 2, port: 8080, images: { postgres: 'my/postgres:16' }, ...(storeReplicas !== undefined ? { storeReplicas } : {}) });

/** What `sh -c` runs in a node's container, once Compose has turned `$$` into `$`. */
const script = (command: string[]) => {
  expect(command.slice(0, 2)).toEqual(['sh', '-c']);
  return command[2]!.replace(/\$\$/g, '$');
};

describe('hactl compose --strategy postgres:standby / postgres:sync-standby', () => {
  it('writes a primary, standbys that pg_basebackup it through its link, the links, the endpoint, and apps wired to the endpoint', () => {
    const text = compose('postgres:standby', 2);
    const services = (parse(text) as { services: Services }).services;
    expect(Object.keys(services)).toEqual(['postgres-node-1', 'postgres-node-2', 'postgres-node-3', 'postgres-link-node-1', 'postgres-link-node-2', 'postgres-link-node-3', 'postgres-primary', 'replica-1', 'replica-2', 'balancer']);
    expect(services['postgres-node-1']).toMatchObject({ image: 'my/postgres:16', stop_signal: 'SIGINT', environment: { POSTGRES_USER: 'hactl', POSTGRES_HOST_AUTH_METHOD: 'trust' } });
    const primary = script(services['postgres-node-1']!.command);
    expect(primary).not.toMatch(/pg_basebackup/);
    expect(primary).toMatch(/^exec docker-entrypoint\.sh postgres -p 5432 -c 'listen_addresses=\*' .*-c hba_file=\/etc\/hactl-pg_hba\.conf$/m);
    expect(primary).toContain("'host replication all all trust'");
    for (const node of ['postgres-node-2', 'postgres-node-3']) {
      const standby = script(services[node]!.command);
      const slot = `hactl_node_${node.slice(-1)}`;
      expect(standby).toContain(`pg_basebackup --host=postgres-link-node-1 --port=7000 --username=hactl --pgdata="$PGDATA" --wal-method=stream --slot=${slot} --write-recovery-conf`);
      expect(standby).toContain(`pg_create_physical_replication_slot('${slot}', true)`);
      expect(standby).toMatch(/if \[ ! -s "\$PGDATA\/PG_VERSION" \]; then/);
      expect(services[node]!.depends_on).toEqual(['postgres-link-node-1']);
    }
    expect(services['postgres-link-node-2']!.environment).toMatchObject({ HACTL_FAULT_PROXY_UPSTREAM: 'postgres-node-2:5432' });
    expect(services['postgres-link-node-2']!.depends_on).toEqual(['postgres-node-2']);
    expect(services['postgres-primary']!.environment).toMatchObject({ HACTL_FAULT_PROXY_UPSTREAM: 'postgres-node-1:5432' });
    expect(services['replica-1']!.environment).toMatchObject({ HACTL_SESSION_STORE: 'postgres', HACTL_STORE_URL: 'postgres://hactl@postgres-primary:7000/postgres' });
    expect(services['replica-1']!.depends_on).toEqual(['postgres-primary']);
    expect(text).toMatch(/^# Nothing fails over here by itself: the failover is hactl's/m);
    expect(text).toContain('--store-replicas 2');
  });

  it('sync-standby: every node names a synchronous standby, and the header says a commit waits for one', () => {
    const text = compose('postgres:sync-standby');
    const services = (parse(text) as { services: Services }).services;
    for (const node of ['postgres-node-1', 'postgres-node-2']) expect(script(services[node]!.command)).toContain("-c 'synchronous_standby_names=*'");
    expect(text).toMatch(/^# .*synchronous_standby_names \*: no commit is acknowledged before a standby has it/m);
  });

  it("each node's script is valid sh, and every $ Compose would interpolate is doubled", () => {
    const services = (parse(compose('postgres:standby')) as { services: Services }).services;
    for (const node of ['postgres-node-1', 'postgres-node-2']) {
      const raw = services[node]!.command[2]!;
      expect(raw.replace(/\$\$/g, ''), node).not.toContain('$');
      execFileSync('sh', ['-n', '-c', script(services[node]!.command)]);
    }
  });
});
