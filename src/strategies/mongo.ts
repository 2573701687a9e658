import { defineStrategy, storeUrlField } from './descriptor.js';

/** Sessions in MongoDB (DocumentDB), behind round robin. */
export const mongo = defineStrategy({
  name: 'mongo',
  summary: 'sessions in MongoDB (DocumentDB), round robin',
  variants: [{ name: 'default', summary: '' }],
  store: 'mongo',
  appStore: 'mongo',
  sticky: false,
  replicaFields: [storeUrlField('mongoUrl')],
  faultTargets: ['replica', 'store'],
  pricing: ['mongo'],
});
