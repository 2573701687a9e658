import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { failoverBoundMs } from './replication/timings.js';
import { autoConf, backupCopies, lsnBytes, POSTGRES_FAILOVER_TIMINGS, slotName } from './postgres-replication.js';

describe('lsnBytes', () => {
  it.each([
    ['0/0', 0],
    ['0/3000060', 0x3000060],
    ['16/B374D848', 0x16 * 2 ** 32 + 0xb374d848],
    ['FFFFFFFF/FFFFFFFF', 0xffffffff * 2 ** 32 + 0xffffffff],
  ])('%s is %d bytes into the WAL', (lsn, bytes) => {
    expect(lsnBytes(lsn)).toBe(bytes);
  });

  it('orders positions as the WAL does, across the 4 GiB boundary', () => {
    expect(lsnBytes('1/0')!).toBeGreaterThan(lsnBytes('0/FFFFFFFF')!);
  });

  it.each([[null], [undefined], [''], ['0/'], ['/1'], ['G/0'], ['1/2/3'], ['123456789/0'], [42]])('%j is no position (nothing replayed yet, or not an LSN)', (lsn) => {
    expect(lsnBytes(lsn)).toBeUndefined();
  });
});

describe('backupCopies', () => {
  it.each(['postmaster.pid', 'postmaster.opts', 'backup_label', 'standby.signal', 'postgresql.auto.conf', `pg_wal${path.sep}000000010000000000000001`, `pg_wal${path.sep}archive_status`, `pg_replslot${path.sep}hactl_node_2`, `pg_stat_tmp${path.sep}global.stat`, `base${path.sep}5${path.sep}pgsql_tmp123.0`])('leaves out %s', (relative) => {
    expect(backupCopies(relative)).toBe(false);
  });

  it.each(['PG_VERSION', 'postgresql.conf', 'pg_hba.conf', 'global', `global${path.sep}pg_control`, `base${path.sep}5${path.sep}1259`, 'pg_wal', 'pg_replslot', 'pg_xact', `pg_xact${path.sep}0000`, `pg_multixact${path.sep}offsets${path.sep}0000`])('copies %s (the empty directories too)', (relative) => {
    expect(backupCopies(relative)).toBe(true);
  });
});

describe('autoConf', () => {
  it('a primary of a sync-standby store names its synchronous standby and follows no one', () => {
    expect(autoConf({ sync: true })).toBe("# Written by hactl; ALTER SYSTEM changes it.\nsynchronous_standby_names = '*'\n");
  });

  it('an asynchronous primary has nothing of its own', () => {
    expect(autoConf({ sync: false })).not.toMatch(/synchronous_standby_names|primary_conninfo/);
  });

  it("a standby follows its primary's replication link from its own slot, onto the newest timeline", () => {
    const conf = autoConf({ sync: false, follow: { link: { host: '127.0.0.1', port: 40123 }, slot: 'hactl_node_2', applicationName: 'node-2' } });
    expect(conf).toContain("primary_conninfo = 'host=127.0.0.1 port=40123 user=hactl application_name=node-2'\n");
    expect(conf).toContain("primary_slot_name = 'hactl_node_2'\n");
    expect(conf).toContain("recovery_target_timeline = 'latest'\n");
  });

  it('a standby in a container reaches the link by its name on the run\'s network', () => {
    expect(autoConf({ sync: false, follow: { link: { host: 'postgres-link-node-1', port: 7000 }, slot: 'hactl_node_2', applicationName: 'node-2' } })).toContain("primary_conninfo = 'host=postgres-link-node-1 port=7000 user=hactl application_name=node-2'\n");
  });

  it("a sync-standby store's standby names a synchronous standby too, for the day it is promoted", () => {
    expect(autoConf({ sync: true, follow: { link: { host: 'postgres-link-node-1', port: 7000 }, slot: 's', applicationName: 'node-3' } })).toContain("synchronous_standby_names = '*'");
  });
});

describe('slotName', () => {
  it('is a valid replication slot name for any node id', () => {
    expect(slotName('node-2')).toBe('hactl_node_2');
    expect(slotName('Node.X')).toMatch(/^[a-z0-9_]+$/);
  });
});

describe('POSTGRES_FAILOVER_TIMINGS', () => {
  it("aws: RDS Multi-AZ DB instance (sync-standby) fails over in 60-120 s, the DB cluster (standby) under 35 s, each citing its source", () => {
    const total = (mode: 'sync' | 'async') => {
      const t = POSTGRES_FAILOVER_TIMINGS[mode].aws;
      return t.checkIntervalMs * t.unhealthyThreshold + t.switchDelayMs;
    };
    expect(total('sync')).toBeGreaterThanOrEqual(60_000);
    expect(total('sync')).toBeLessThanOrEqual(120_000);
    expect(total('async')).toBeLessThan(35_000);
    expect(POSTGRES_FAILOVER_TIMINGS.sync.aws.source).toMatch(/Multi-AZ DB instance.*60-120/);
    expect(POSTGRES_FAILOVER_TIMINGS.async.aws.source).toMatch(/Multi-AZ DB cluster.*35/);
  });

  it('fast: a failover within seconds, for tests', () => {
    for (const mode of ['sync', 'async'] as const) expect(failoverBoundMs(POSTGRES_FAILOVER_TIMINGS[mode].fast)).toBeLessThan(10_000);
  });
});
