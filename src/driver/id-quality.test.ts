import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from './rng.js';
import { classifyAlphabet, idQuality, positionEntropyBits } from './id-quality.js';

const HEX = '0123456789abcdef';
const randomHex = (rng: Rng, length: number) => Array.from({ length }, () => rng.pick([...HEX])).join('');
const sample = (count: number, make: (index: number) => string) => Array.from({ length: count }, (_, index) => make(index));

describe('idQuality', () => {
  it('gives random hex of length 32 close to its 128 bits', () => {
    const rng = createRng(11);
    const quality = idQuality(sample(1000, () => randomHex(rng, 32)));
    expect(quality.alphabet).toEqual({ name: 'hex', size: 16 });
    expect(quality.entropyBits).toBeGreaterThan(126);
    expect(quality.entropyBits).toBeLessThanOrEqual(128);
    expect(quality.duplicates).toBe(0);
    expect(quality.minLength).toBe(32);
    expect(quality.maxLength).toBe(32);
  });

  it('counts nothing for a constant prefix', () => {
    const rng = createRng(12);
    const quality = idQuality(sample(1000, () => `sess-${randomHex(rng, 16)}`));
    expect(quality.perPositionBits.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(quality.perPositionBits.slice(5).every((bits) => bits > 3.9)).toBe(true);
    // Only the 16 random characters count, at most 4 bits each.
    expect(quality.entropyBits).toBeLessThanOrEqual(64);
    expect(quality.entropyBits).toBeGreaterThan(62);
  });

  it('gives a counter-like id far less than 64 bits, though it never repeats', () => {
    const quality = idQuality(sample(1000, (index) => `id${String(100_000 + index).padStart(12, '0')}`));
    expect(quality.duplicates).toBe(0);
    // Three changing decimal digits: about log2(1000).
    expect(quality.entropyBits).toBeLessThan(12);
    expect(quality.entropyBits).toBeGreaterThan(9);
  });

  it('counts each repeat of an earlier id as a duplicate', () => {
    const quality = idQuality(['a1', 'b2', 'a1', 'c3', 'a1', 'b2']);
    expect(quality).toMatchObject({ count: 6, unique: 3, duplicates: 3 });
  });

  it('reads express-session ids (24 random bytes, base64url) as about 192 bits', () => {
    const quality = idQuality(sample(1000, () => randomBytes(24).toString('base64url')));
    expect(quality.alphabet.name).toBe('base64url');
    expect(quality.entropyBits).toBeGreaterThan(188);
    expect(quality.entropyBits).toBeLessThanOrEqual(192);
  });

  it("reads PHP's ids (32 characters of 0-9a-v) as about 160 bits", () => {
    const rng = createRng(14);
    const alphabet = [...'0123456789abcdefghijklmnopqrstuv'];
    const quality = idQuality(sample(1000, () => Array.from({ length: 32 }, () => rng.pick(alphabet)).join('')));
    expect(quality.alphabet).toEqual({ name: 'base32hex', size: 32 });
    expect(quality.entropyBits).toBeGreaterThan(157);
    expect(quality.entropyBits).toBeLessThanOrEqual(160);
  });

  it('handles ids of varying length and an empty sample', () => {
    expect(idQuality(['ab', 'abc'])).toMatchObject({ minLength: 2, maxLength: 3, characters: 'abc' });
    expect(idQuality([])).toMatchObject({ count: 0, entropyBits: 0, duplicates: 0 });
  });
});

describe('positionEntropyBits', () => {
  it('corrects the plug-in estimate, which runs low on small samples (Miller–Madow)', () => {
    // 40 draws of a uniform 16-symbol position: the truth is 4 bits.
    const rng = createRng(13);
    const counts = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const char = rng.pick([...HEX]);
      counts.set(char, (counts.get(char) ?? 0) + 1);
    }
    const plugIn = [...counts.values()].reduce((sum, n) => sum - (n / 40) * Math.log2(n / 40), 0);
    const corrected = positionEntropyBits(counts.values(), 16);
    expect(corrected).toBeGreaterThan(plugIn);
    expect(Math.abs(4 - corrected)).toBeLessThan(Math.abs(4 - plugIn));
  });

  it('never exceeds what the alphabet can carry, and gives 0 for a constant', () => {
    expect(positionEntropyBits([3, 2], 2)).toBeLessThanOrEqual(1);
    expect(positionEntropyBits([500, 500], 2)).toBeCloseTo(1, 10);
    expect(positionEntropyBits([1000], 16)).toBe(0);
    expect(positionEntropyBits([], 16)).toBe(0);
  });
});

describe('classifyAlphabet', () => {
  it('names the smallest common alphabet that holds every character', () => {
    expect(classifyAlphabet('0123')).toEqual({ name: 'decimal', size: 10 });
    expect(classifyAlphabet('09af')).toEqual({ name: 'hex', size: 16 });
    expect(classifyAlphabet('09AF')).toEqual({ name: 'hex', size: 16 });
    expect(classifyAlphabet('09av')).toEqual({ name: 'base32hex', size: 32 });
    expect(classifyAlphabet('AZ27')).toEqual({ name: 'base32', size: 32 });
    expect(classifyAlphabet('aZ09')).toEqual({ name: 'alphanumeric', size: 62 });
    expect(classifyAlphabet('aZ-_')).toEqual({ name: 'base64url', size: 64 });
    expect(classifyAlphabet('aZ+/=')).toEqual({ name: 'base64', size: 64 });
    expect(classifyAlphabet('a~!')).toEqual({ name: 'characters seen', size: 3 });
  });
});
