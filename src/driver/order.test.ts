import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { interleave, runInOrder } from './order.js';
import { createRng } from './rng.js';
import { makeUsers } from './users.js';

describe('runInOrder', () => {
  it('starts tasks in the given order, never two of one user at once, at most `concurrency` at a time', async () => {
    const started: number[] = [];
    const active = new Set<number>();
    let peak = 0;
    const tasks = [0, 1, 0, 2, 3, 1, 4, 0].map((user, i) => ({
      user,
      run: async () => {
        expect(active.has(user)).toBe(false);
        active.add(user);
        started.push(i);
        peak = Math.max(peak, active.size);
        await sleep(5 + ((i * 7) % 4));
        active.delete(user);
      },
    }));
    await runInOrder(tasks, 3, new AbortController().signal);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBeLessThanOrEqual(3);
  });

  it('stops at the first failure and on abort', async () => {
    await expect(runInOrder([{ user: 0, run: () => Promise.reject(new Error('boom')) }], 2, new AbortController().signal)).rejects.toThrow('boom');
    const controller = new AbortController();
    const pending = runInOrder([{ user: 0, run: () => sleep(1_000) }], 1, controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });
});

describe('seeding', () => {
  it('makes the same users and the same order from the same seed, and different ones from another', () => {
    const identities = (seed: number) => makeUsers(5, createRng(seed).fork('users')).map((user) => user.identity);
    expect(identities(42)).toEqual(identities(42));
    expect(identities(42)).not.toEqual(identities(43));

    const order = (seed: number) => interleave([0, 1, 2, 3], 3, createRng(seed).shuffle);
    expect(order(7)).toEqual(order(7));
    expect(order(7)).not.toEqual(order(8));
    expect([...order(7)].sort()).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });

  it('gives every user a distinct id', () => {
    const ids = makeUsers(1000, createRng(1)).map((user) => user.identity.userId);
    expect(new Set(ids).size).toBe(1000);
  });
});
