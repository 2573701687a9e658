import { defineStrategy } from './descriptor.js';

/**
 * Sessions in each replica's memory, the balancer pinning each client to one replica. Stickiness
 * is a setting of the balancer every strategy has (ALB charges nothing extra for it), so it
 * prices no instance.
 */
export const sticky = defineStrategy({
  name: 'sticky',
  summary: 'per-replica memory, balancer cookie stickiness (ALB lb_cookie)',
  variants: [
    { name: 'lb_cookie', summary: "the balancer's own cookie (AWSALB) pins the client", stickiness: 'lb_cookie' },
    { name: 'app_cookie', summary: "the balancer follows the app's cookie (AWSALBAPP)", stickiness: 'app_cookie' },
  ],
  appStore: 'memory',
  sticky: true,
  replicaFields: [],
  faultTargets: ['replica'],
  pricing: [],
});
