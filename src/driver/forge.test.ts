import { describe, expect, it } from 'vitest';
import { describeShape, fitsShape, forgeLike, learnShape } from './forge.js';
import { createRng } from './rng.js';

describe('forgeLike', () => {
  it('keeps the shape of an express-session cookie (prefix, separator, classes) but not its id or signature', () => {
    const real = 's%3AEYUCWinQJJK7KIKSux9ADlIgOs50cD1b.dBMFXVm44%2Fp4SNMQhEXhLapgftykGIzHk%2Bq6ThHBVRg';
    const forged = forgeLike(real, createRng(1));
    const decoded = decodeURIComponent(forged);
    expect(decoded).toMatch(/^s:[A-Za-z0-9]{32}\.[A-Za-z0-9]{9}\/[A-Za-z0-9]{23}\+[A-Za-z0-9]{9}$/);
    expect(decoded.slice(2, 34)).not.toBe('EYUCWinQJJK7KIKSux9ADlIgOs50cD1b');
    expect(forged.length).toBe(real.length);
  });

  it('keeps character classes position by position', () => {
    const forged = forgeLike('A1B2C3D4E5F6', createRng(2));
    expect(forged).toMatch(/^[A-F]\d[A-F]\d[A-F]\d[A-F]\d[A-F]\d[A-F]\d$/);
    expect(forged).not.toBe('A1B2C3D4E5F6');
  });

  // The miss: `e027b79e…` forged as `i704i85f…` is not hex, and an app adopting any hex id rejects it.
  it.each([
    ['lowercase', 'e027b79e4c1d8a3f5b6e9c0d2a7f1b8e', /^[0-9a-f]{32}$/],
    ['uppercase', 'E027B79E4C1D8A3F5B6E9C0D2A7F1B8E', /^[0-9A-F]{32}$/],
  ])('forges a %s hex id as hex, with every seed', (_, issued, hex) => {
    for (let seed = 0; seed < 200; seed++) {
      const forged = forgeLike(issued, createRng(seed), learnShape([issued]));
      expect(forged).toMatch(hex);
      expect(forged).not.toBe(issued);
      expect(fitsShape(forged, issued, learnShape([issued]))).toBe(true);
    }
  });

  it('keeps a prefix every issued id shares, and draws only from the characters the varying positions use', () => {
    // An app that adopts any `v2` + 32 hex characters: the `v` must neither be replaced nor leak into the hex.
    const issued = ['v2e027b79e4c1d8a3f5b6e9c0d2a7f1b8e', 'v29f3a0c1b2d4e5f60718293a4b5c6d7e8', 'v2a1b2c3d4e5f60718293a4b5c6d7e8f90'];
    const shape = learnShape(issued);
    for (let seed = 0; seed < 200; seed++) {
      const forged = forgeLike(issued[0]!, createRng(seed), shape);
      expect(forged).toMatch(/^v2[0-9a-f]{32}$/);
      expect(fitsShape(forged, issued[0]!, shape)).toBe(true);
    }
    // A value that changed the prefix does not pass for an issued one.
    expect(fitsShape('c1e027b79e4c1d8a3f5b6e9c0d2a7f1b8e', issued[0]!, shape)).toBe(false);
  });

  it('the same value issued again (a token stamped to the second) makes no position fixed, and an issued value never fits', () => {
    const token = 'eyJ1c2VyIjoiYSJ9.ZmVkY2JhOTg3NjU0MzIxMA';
    const shape = learnShape([token, token, token]);
    const forged = forgeLike(token, createRng(4), shape);
    expect(forged).not.toBe(token);
    expect(fitsShape(forged, token, shape)).toBe(true);
    const other = 'aaaa1111bbbb2222';
    expect(fitsShape(other, 'cccc3333dddd4444', learnShape([other, 'cccc3333dddd4444']))).toBe(false);
  });

  it('draws from the characters of every issued id, not only the template', () => {
    const issued = ['ab12cd34ab12cd34', 'ba21dc43ba21dc43'];
    const seen = new Set<string>();
    for (let seed = 0; seed < 50; seed++) for (const char of forgeLike(issued[0]!, createRng(seed), learnShape(issued))) seen.add(char);
    expect([...seen].sort()).toEqual(['1', '2', '3', '4', 'a', 'b', 'c', 'd']);
  });
});

describe('the shape of ids', () => {
  it('names length and alphabet', () => {
    expect(describeShape(['e027b79e4c1d8a3f5b6e9c0d2a7f1b8e'])).toBe('32 characters, hex, lowercase');
    expect(describeShape(['E027B79E4C1D8A3F5B6E9C0D2A7F1B8E'])).toBe('32 characters, hex, uppercase');
    expect(describeShape(['s%3Aabc.def', 's%3AabcD.def'])).toBe('9-10 characters of A-Za-z and .:');
    expect(describeShape([])).toBe('none');
  });

  it('an id with no run of 8 letters and digits cannot be forged: nothing fits', () => {
    const issued = 'ab12-cd34-ef56';
    const forged = forgeLike(issued, createRng(3));
    expect(forged).toBe(issued);
    expect(fitsShape(forged, issued, learnShape([issued]))).toBe(false);
  });

  it('a value of another length or with a character no issued id has does not fit', () => {
    expect(fitsShape('abcdef12', 'abcdef13', learnShape(['abcdef1345']))).toBe(false);
    expect(fitsShape('abcdeg12', 'abcdef13', learnShape(['abcdef13']))).toBe(false);
  });
});
