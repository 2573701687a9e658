import { defineStrategy, storeUrlField } from './descriptor.js';

/** Sessions in MongoDB (DocumentDB), behind round robin; its variants are a replica set and the app's write concern. */
export const mongo = defineStrategy({
  name: 'mongo',
  summary: 'sessions in MongoDB (DocumentDB), round robin',
  variants: [
    { name: 'default', summary: '' },
    { name: 'replica-set', summary: 'a replica set of three members (--store-replicas 2), the app writing with w: 1; MongoDB elects a new primary, the driver follows', replication: 'async' },
    { name: 'replica-set-majority', summary: 'as replica-set, the app writing with w: majority: a session write is acknowledged once a majority of members has it', replication: 'sync' },
  ],
  store: 'mongo',
  // Three members (a primary and two secondaries, as DocumentDB's smallest highly available cluster) and the fast profile until --store-replicas and --failover-profile say otherwise (topology/plan.ts).
  // The write concern goes to the app in the replica-set URL (w=1, w=majority), which any app's driver reads.
  storeOptions: (variant) => (variant.replication ? { replication: { replicas: 2, mode: variant.replication, profile: 'fast', decidedBy: 'election' } } : {}),
  appStore: 'mongo',
  sticky: false,
  replicaFields: [storeUrlField('mongoUrl')],
  faultTargets: ['replica', 'store'],
  pricing: ['mongo'],
});
