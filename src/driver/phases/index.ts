import type { RegisteredPhaseUnit } from '../phase.js';
import { forgedCookie } from './forged-cookie.js';
import { killReplica } from './kill-replica.js';
import { login } from './login.js';
import { read } from './read.js';
import { stolenCookie } from './stolen-cookie.js';
import { wait } from './wait.js';
import { killStore } from './kill-store.js';
import { storeFailover } from './store-failover.js';
import { replicaReads } from './replica-reads.js';
import { storeFault } from './store-fault.js';
import { restartReplicas } from './restart-replicas.js';
import { concurrentIncrements } from './concurrent-increments.js';
import { securityFixation } from './security-fixation.js';
import { securityLogout } from './security-logout.js';
import { securityCookieAttributes } from './security-cookie-attributes.js';
import { securityIdQuality } from './security-id-quality.js';
import { securityIdleTimeout } from './security-idle-timeout.js';

/** Every phase kind a scenario file may use, keyed by the name written after `do:`. */
export const phaseUnits: Readonly<Record<string, RegisteredPhaseUnit>> = Object.fromEntries(
  [
    login,
    read,
    killReplica,
    killStore,
    storeFailover,
    replicaReads,
    restartReplicas,
    storeFault,
    concurrentIncrements,
    stolenCookie,
    forgedCookie,
    wait,
    securityFixation,
    securityLogout,
    securityCookieAttributes,
    securityIdQuality,
    securityIdleTimeout,
  ].map((unit) => [unit.kind, unit]),
);
