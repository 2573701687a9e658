import type { SessionStoreKind } from './app/config.js';
import type { StoreName } from './stores/store.js';

export const STRATEGY_NAMES = ['none', 'sticky', 'redis', 'postgres', 'mongo'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** How sessions persist, in the terms of DESIGN.md: where they live and whether the balancer pins clients. */
export interface Strategy {
  name: StrategyName;
  summary: string;
  /** The session store the app uses; memory means each replica keeps its own. */
  appStore: SessionStoreKind;
  /** The store server the strategy needs, if any. */
  store?: StoreName;
  sticky: boolean;
}

export const strategies: Record<StrategyName, Strategy> = {
  none: { name: 'none', summary: 'per-replica memory, plain round robin', appStore: 'memory', sticky: false },
  sticky: { name: 'sticky', summary: 'per-replica memory, balancer cookie stickiness (ALB lb_cookie)', appStore: 'memory', sticky: true },
  redis: { name: 'redis', summary: 'sessions in Redis (ElastiCache), round robin', appStore: 'redis', store: 'redis', sticky: false },
  postgres: { name: 'postgres', summary: 'sessions in PostgreSQL (RDS, Spring Session JDBC), round robin', appStore: 'postgres', store: 'postgres', sticky: false },
  mongo: { name: 'mongo', summary: 'sessions in MongoDB (DocumentDB), round robin', appStore: 'mongo', store: 'mongo', sticky: false },
};
