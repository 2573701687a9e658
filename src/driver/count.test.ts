import { describe, expect, it } from 'vitest';
import { CountSyntaxError, parseCount } from './count.js';

const vars = { reads: 10, replicas: 3, users: 30 };

describe('count expressions', () => {
  it.each([
    [5, 5],
    ['7', 7],
    ['reads', 10],
    ['4 * replicas', 12],
    ['2*replicas+1', 7],
    ['max(reads, 2 * replicas)', 10],
    ['min(reads, 2 * replicas)', 6],
    ['(reads - 4) * 2', 12],
    ['users - replicas * 2', 24],
  ])('%s evaluates to %d', (source, expected) => {
    expect(parseCount(source)(vars)).toBe(expected);
  });

  it.each([
    ['readz', /unknown name "readz"/],
    ['4 *', /expected a value at the end/],
    ['max(1 2)', /expected , but found "2"/],
    ['3 replicas', /unexpected "replicas"/],
    [-1, /whole number/],
    [1.5, /whole number/],
  ])('rejects %s', (source, message) => {
    expect(() => parseCount(source)).toThrow(CountSyntaxError);
    expect(() => parseCount(source)).toThrow(message);
  });
});
