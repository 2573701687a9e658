/**
 * An expectation's bound, written as k6 writes thresholds: a comparison and a number, such as
 * `>= 0.99`, `== 0`, `< 250`; for findings, `pass`, `fail` or `n/a` (the check could not be made,
 * as `cookie-secure` over plain HTTP: a bound that says so holds instead of failing every run).
 *
 *   bound   := op number | "pass" | "fail" | "n/a"
 *   op      := "<" | "<=" | ">" | ">=" | "==" | "!="
 *   number  := a decimal, optionally with a fraction or exponent; `%` after it divides by 100
 */
export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A finding's bound: the finding's `passed` it holds for, null for `n/a`. */
export type Bound = { kind: 'compare'; op: Operator; value: number; text: string } | { kind: 'finding'; passed: boolean | null; text: string };

const FINDING_BOUNDS: Record<string, boolean | null> = { pass: true, fail: false, 'n/a': null };

const COMPARE = /^\s*(<=|>=|==|!=|<|>)\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*(%?)\s*$/i;

export function parseBound(text: string): Bound | undefined {
  const trimmed = text.trim();
  if (Object.hasOwn(FINDING_BOUNDS, trimmed)) return { kind: 'finding', passed: FINDING_BOUNDS[trimmed]!, text: trimmed };
  const match = COMPARE.exec(text);
  if (!match) return undefined;
  const value = Number(match[2]) / (match[3] ? 100 : 1);
  return { kind: 'compare', op: match[1] as Operator, value, text: `${match[1]} ${match[2]}${match[3]}` };
}

export function holds(op: Operator, actual: number, bound: number): boolean {
  switch (op) {
    case '<':
      return actual < bound;
    case '<=':
      return actual <= bound;
    case '>':
      return actual > bound;
    case '>=':
      return actual >= bound;
    case '==':
      return actual === bound;
    case '!=':
      return actual !== bound;
  }
}
