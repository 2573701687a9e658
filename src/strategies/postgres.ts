import { defineStrategy, storeUrlField } from './descriptor.js';

/** Sessions in PostgreSQL (RDS), as Spring Session JDBC keeps them, behind round robin; its variants are RDS's Multi-AZ deployments. */
export const postgres = defineStrategy({
  name: 'postgres',
  summary: 'sessions in PostgreSQL (RDS, Spring Session JDBC), round robin',
  variants: [
    { name: 'default', summary: '' },
    { name: 'standby', summary: 'a primary and standbys (--store-replicas), asynchronous streaming replication, failover to a standby (RDS Multi-AZ DB cluster, its readers async-visible)', replication: 'async' },
    { name: 'sync-standby', summary: 'as standby, but each commit waits for a standby (synchronous_standby_names, synchronous_commit on; RDS Multi-AZ DB instance)', replication: 'sync' },
  ],
  store: 'postgres',
  // One standby and the fast profile until the run's --store-replicas and --failover-profile say otherwise (topology/plan.ts).
  storeOptions: (variant) => (variant.replication ? { replication: { replicas: 1, mode: variant.replication, profile: 'fast' } } : {}),
  appStore: 'postgres',
  sticky: false,
  // postgres:standby, postgres:sync-standby: {postgresReaderUrl} reaches a hot standby (replica-reads).
  replicaFields: [storeUrlField('postgresUrl'), { name: 'postgresReaderUrl', value: (wiring) => wiring.readerUrl ?? '' }],
  faultTargets: ['replica', 'store'],
  pricing: ['postgres'],
});
