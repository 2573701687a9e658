import { CookieJar } from 'tough-cookie';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cookieHeader, CountingCookieStore, newJar, storeSetCookies } from './cookie-memo.js';
import { createRng } from './rng.js';

const START = Date.UTC(2026, 10, 30, 6, 0, 0);
const at = (ms: number) => new Date(START + ms).toUTCString();

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(START);
});
afterEach(() => vi.useRealTimers());

/** Everything a jar holds, as tough-cookie serialises it (creation and lastAccessed included). */
const contents = (jar: CookieJar) => jar.serializeSync()!.cookies;

describe('cookie memo', () => {
  it('sends and stores exactly what tough-cookie alone would, over a random run of answers, writes, expiries and time', () => {
    const urls = ['http://127.0.0.1:8080/session', 'http://127.0.0.1:8080/admin/x', 'http://localhost:8080/session'].map((url) => new URL(url));
    // Answers a rolling session, a balancer and odd servers send, repeated often as real ones are.
    const lines = (now: number) => [
      ['sid=a1; Path=/; HttpOnly; Max-Age=30'],
      ['sid=a1; Path=/; HttpOnly; Max-Age=30'],
      [`sid=a1; Path=/; Expires=${at(now - (now % 1000) + 20_000)}; HttpOnly`],
      ['sid=b2; Path=/; HttpOnly; Max-Age=30', 'AWSALB=x9; Path=/; Max-Age=604800'],
      ['AWSALB=x9; Path=/; Max-Age=604800'],
      ['sid=; Path=/; Max-Age=0'],
      [`old=1; Path=/; Expires=${at(now - 1000)}`],
      ['admin=1; Path=/admin'],
      ['bad=1; Domain=example.com'],
      ['=novalue'],
      [],
    ];
    for (let seed = 1; seed <= 40; seed++) {
      const rng = createRng(seed);
      const memo = newJar();
      const plain = new CookieJar();
      let now = 0;
      for (let step = 0; step < 300; step++) {
        const url = urls[rng.int(urls.length)]!;
        const roll = rng.next();
        if (roll < 0.4) {
          expect(cookieHeader(memo, url), `seed ${seed} step ${step}`).toBe(plain.getCookieStringSync(url));
        } else if (roll < 0.75) {
          const answer = lines(now)[rng.int(lines(now).length)]!;
          storeSetCookies(memo, url, answer);
          for (const line of answer) plain.setCookieSync(line, url, { ignoreError: true });
        } else if (roll < 0.8) {
          // A phase writing to the jar directly (a forged or copied cookie).
          for (const jar of [memo, plain]) jar.setCookieSync(`sid=forged${step}; Path=/`, url);
        } else if (roll < 0.82) {
          for (const jar of [memo, plain]) jar.removeAllCookiesSync();
        } else if (roll < 0.85) {
          // A phase reading the jar past expiry (a replay) or live (whose cookie is it?).
          const expire = rng.next() < 0.5;
          expect(memo.getCookiesSync(url, { expire }).map(String)).toEqual(plain.getCookiesSync(url, { expire }).map(String));
        } else {
          now += [1, 400, 1000, 15_000, 31_000][rng.int(5)]!;
          vi.setSystemTime(START + now);
        }
        expect(contents(memo), `seed ${seed} step ${step}`).toEqual(contents(plain));
      }
    }
  });

  it('keeps a rolling Max-Age session alive while it is used, and lets it expire once it is not', () => {
    const jar = newJar();
    const url = new URL('http://127.0.0.1:8080/session');
    for (let second = 0; second <= 60; second += 10) {
      vi.setSystemTime(START + second * 1000);
      expect(cookieHeader(jar, url)).toBe(second === 0 ? '' : 'sid=a1');
      storeSetCookies(jar, url, ['sid=a1; Path=/; Max-Age=30']);
    }
    vi.setSystemTime(START + 91_000);
    expect(cookieHeader(jar, url)).toBe('');
  });

  it('sends what a phase wrote into the jar on the very next request', () => {
    const jar = newJar();
    const url = new URL('http://127.0.0.1:8080/session');
    storeSetCookies(jar, url, ['sid=a1; Path=/']);
    expect(cookieHeader(jar, url)).toBe('sid=a1');
    jar.setCookieSync('sid=forged; Path=/', url);
    expect(cookieHeader(jar, url)).toBe('sid=forged');
    storeSetCookies(jar, url, ['sid=a1; Path=/']);
    expect(cookieHeader(jar, url)).toBe('sid=a1');
  });

  it('drops a cookie from the header the moment its Expires passes', () => {
    const jar = newJar();
    const url = new URL('http://127.0.0.1:8080/session');
    storeSetCookies(jar, url, [`sid=a1; Path=/; Expires=${at(5000)}`, 'theme=dark; Path=/']);
    expect(cookieHeader(jar, url)).toBe('sid=a1; theme=dark');
    vi.setSystemTime(START + 4999);
    expect(cookieHeader(jar, url)).toBe('sid=a1; theme=dark');
    vi.setSystemTime(START + 5000);
    expect(cookieHeader(jar, url)).toBe('theme=dark');
  });

  it('goes through tough-cookie for jars it cannot watch, and counts every change to those it can', () => {
    const plain = new CookieJar();
    const url = new URL('http://127.0.0.1:8080/session');
    storeSetCookies(plain, url, ['sid=a1; Path=/']);
    expect(cookieHeader(plain, url)).toBe('sid=a1');

    const store = newJar().store as CountingCookieStore;
    const jar = new CookieJar(store);
    const changes = [store.changes];
    jar.setCookieSync('sid=a1; Path=/', url);
    changes.push(store.changes);
    jar.setCookieSync('sid=a2; Path=/', url);
    changes.push(store.changes);
    jar.removeAllCookiesSync();
    changes.push(store.changes);
    for (let i = 1; i < changes.length; i++) expect(changes[i]).toBeGreaterThan(changes[i - 1]!);
  });
});
