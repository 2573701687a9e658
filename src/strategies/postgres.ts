import { defineStrategy, storeUrlField } from './descriptor.js';

/** Sessions in PostgreSQL (RDS), as Spring Session JDBC keeps them, behind round robin. */
export const postgres = defineStrategy({
  name: 'postgres',
  summary: 'sessions in PostgreSQL (RDS, Spring Session JDBC), round robin',
  variants: [{ name: 'default', summary: '' }],
  store: 'postgres',
  appStore: 'postgres',
  sticky: false,
  replicaFields: [storeUrlField('postgresUrl')],
  faultTargets: ['replica', 'store'],
  pricing: ['postgres'],
});
