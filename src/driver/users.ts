import type { CookieJar } from 'tough-cookie';
import { newJar } from './cookie-memo.js';
import type { Identity } from './app-profile.js';
import type { Rng } from './rng.js';

/** One simulated person: an identity and a cookie jar that behaves as a browser's would. */
export interface VirtualUser {
  index: number;
  identity: Identity;
  jar: CookieJar;
}

// Romanised Korean given names, after the write-up's test users.
const NAMES = ['Minji', 'Seojun', 'Jiwoo', 'Hajun', 'Seoyeon', 'Doyun', 'Jiho', 'Yuna', 'Eunwoo', 'Subin', 'Hyunwoo', 'Chaewon'];
const FAMILY = ['Kim', 'Lee', 'Park', 'Choi', 'Jung', 'Kang', 'Cho', 'Yoon', 'Jang', 'Lim'];

/**
 * The same seed makes the same users: ids and names come from the seeded generator only. With
 * the profile's test accounts (`users:`), users take its rows in order, cycling when there are
 * more users than rows (throwaway logins; a run's --users was checked against the rows).
 */
export function makeUsers(count: number, rng: Rng, accounts?: readonly Identity[]): VirtualUser[] {
  return Array.from({ length: count }, (_, index) => ({
    index,
    identity: accounts && accounts.length > 0 ? accounts[index % accounts.length]! : makeIdentity(rng, `u${String(index + 1).padStart(4, '0')}`),
    jar: newJar(),
  }));
}

/**
 * Someone other than `victim` who can log in: a seeded identity, or with test accounts the row
 * after the victim's (an invented identity cannot log in to an app with real accounts).
 */
export function attackerIdentity(rng: Rng, victim: VirtualUser, accounts?: readonly Identity[]): Identity {
  if (accounts && accounts.length > 0) return accounts[(victim.index + 1) % accounts.length]!;
  return makeIdentity(rng, 'attacker');
}

export function makeIdentity(rng: Rng, prefix: string): Identity {
  const tag = Math.floor(rng.next() * 0xffffff).toString(16).padStart(6, '0');
  return { userId: `${prefix}-${tag}`, userNm: `${rng.pick(FAMILY)} ${rng.pick(NAMES)}` };
}
