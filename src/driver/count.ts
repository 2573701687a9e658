/**
 * Counts in scenario files: an integer or a small expression over the run's settings, such as
 * `reads`, `4 * replicas` or `max(reads, 2 * replicas)`. Grammar:
 *   expr   := term (('+' | '-') term)*
 *   term   := factor ('*' factor)*
 *   factor := integer | variable | 'max(' expr ',' expr ')' | 'min(' expr ',' expr ')' | '(' expr ')'
 * Parsed when the scenario loads, so a typo is reported before anything starts.
 */
export const COUNT_VARIABLES = ['reads', 'replicas', 'users'] as const;
export type CountVariables = Record<(typeof COUNT_VARIABLES)[number], number>;

export type CountExpression = (variables: CountVariables) => number;

export class CountSyntaxError extends Error {}

export function parseCount(source: string | number): CountExpression {
  if (typeof source === 'number') {
    if (!Number.isInteger(source) || source < 0) throw new CountSyntaxError(`expected a whole number, got ${source}`);
    return () => source;
  }
  const tokens = source.match(/\d+|[a-z]+|[()+\-*,]|\S/g) ?? [];
  let position = 0;
  const peek = () => tokens[position];
  const take = (expected?: string) => {
    const token = tokens[position++];
    if (token === undefined || (expected !== undefined && token !== expected)) {
      throw new CountSyntaxError(`expected ${expected ?? 'a value'}${token === undefined ? ' at the end' : ` but found "${token}"`} in "${source}"`);
    }
    return token;
  };

  const expr = (): CountExpression => {
    let left = term();
    while (peek() === '+' || peek() === '-') {
      const op = take();
      const a = left;
      const b = term();
      left = op === '+' ? (v) => a(v) + b(v) : (v) => a(v) - b(v);
    }
    return left;
  };
  const term = (): CountExpression => {
    let left = factor();
    while (peek() === '*') {
      take();
      const a = left;
      const b = factor();
      left = (v) => a(v) * b(v);
    }
    return left;
  };
  const factor = (): CountExpression => {
    const token = take();
    if (/^\d+$/.test(token)) {
      const value = Number(token);
      return () => value;
    }
    if (token === '(') {
      const inner = expr();
      take(')');
      return inner;
    }
    if ((token === 'max' || token === 'min') && peek() === '(') {
      take('(');
      const a = expr();
      take(',');
      const b = expr();
      take(')');
      const pick = token === 'max' ? Math.max : Math.min;
      return (v) => pick(a(v), b(v));
    }
    if ((COUNT_VARIABLES as readonly string[]).includes(token)) {
      const name = token as keyof CountVariables;
      return (v) => v[name];
    }
    throw new CountSyntaxError(`unknown name "${token}" in "${source}"; a count may use ${COUNT_VARIABLES.join(', ')}, integers, + - *, max() and min()`);
  };

  const parsed = expr();
  if (position < tokens.length) throw new CountSyntaxError(`unexpected "${tokens[position]}" in "${source}"`);
  return parsed;
}
