import type { PhaseUnit } from '../phase.js';
import { forgedCookie } from './forged-cookie.js';
import { killReplica } from './kill-replica.js';
import { login } from './login.js';
import { read } from './read.js';
import { stolenCookie } from './stolen-cookie.js';
import { wait } from './wait.js';

/** Every phase kind a scenario file may use, keyed by the name written after `do:`. */
export const phaseUnits: Record<string, PhaseUnit<any>> = Object.fromEntries(
  [login, read, killReplica, stolenCookie, forgedCookie, wait].map((unit) => [unit.kind, unit]),
);
