import { defineStrategy } from './descriptor.js';

/** Sessions in each replica's memory, behind plain round robin: the baseline every other strategy improves on. */
export const none = defineStrategy({
  name: 'none',
  summary: 'per-replica memory, plain round robin',
  variants: [{ name: 'default', summary: '' }],
  appStore: 'memory',
  sticky: false,
  replicaFields: [],
  faultTargets: ['replica'],
  pricing: [],
});
