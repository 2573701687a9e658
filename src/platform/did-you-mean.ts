/**
 * "Did you mean …" for a name the user typed that is not one of the names hactl knows: the known
 * names nearest to it, for the one-line errors of flags and config files. Pure.
 *
 * Near means: the same name in another case (`hitrate`), a Damerau–Levenshtein distance (optimal
 * string alignment: a swapped pair of letters is one edit, as in `login-raed`) of at most a third
 * of the name's length, and at least 1 (but never all of it); or a known name that begins with the typed one followed by
 * a dash or dot (`logout` for `logout-invalidates`), as people shorten dashed ids.
 */

/** At most this many suggestions: more would be the whole list, which the error gives anyway. */
const MAX_SUGGESTIONS = 3;

/** The known names nearest to `name`, nearest first (ties keep the order of `known`); empty when none is near. */
export function nearestNames(name: string, known: readonly string[]): string[] {
  const typed = name.toLowerCase();
  const limit = Math.max(1, Math.floor(typed.length / 3));
  const scored: { candidate: string; score: number; index: number }[] = [];
  known.forEach((candidate, index) => {
    if (candidate === name) return;
    const lower = candidate.toLowerCase();
    const distance = editDistance(typed, lower);
    // A shortened dashed id ranks after every near spelling: a typo is the likelier mistake.
    const score = distance <= limit && distance < typed.length ? distance : typed.length > 0 && /^[-.]/.test(lower.slice(typed.length)) && lower.startsWith(typed) ? limit + 1 : undefined;
    if (score !== undefined) scored.push({ candidate, score, index });
  });
  scored.sort((a, b) => a.score - b.score || a.index - b.index);
  const best = scored.filter((entry) => entry.score === scored[0]?.score);
  return best.slice(0, MAX_SUGGESTIONS).map((entry) => entry.candidate);
}

/**
 * ` (did you mean none?)`, for after the unknown name in an error, or '' when nothing is near.
 * `show` writes a suggestion as the user would type it (a variant with its strategy's name).
 */
export function didYouMean(name: string, known: readonly string[], show: (name: string) => string = (same) => same): string {
  const nearest = nearestNames(name, known);
  return nearest.length === 0 ? '' : ` (did you mean ${nearest.map(show).join(' or ')}?)`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
export function editDistance(a: string, b: string): number {
  // Three rows of the dynamic programme: the one before last (for swaps), the last, the current.
  let before: number[] = [];
  let last = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(last[j]! + 1, current[j - 1]! + 1, last[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, before[j - 2]! + 1);
      current.push(value);
    }
    before = last;
    last = current;
  }
  return last[b.length]!;
}
