import { didYouMean } from './did-you-mean.js';
import { UsageError } from './errors.js';

/**
 * One flag as the flag table (flags.ts) and the runtimes declare it: everything the commander
 * option, the config file's key and the parsed flags' type are made from. A leaf module (errors
 * and did-you-mean only), so that a runtime can declare its flags without importing the CLI.
 */
export interface FlagSpec {
  /** The key commander gives it, and RunFlags' field: the long name in camelCase (`--no-warm-up` gives `warmUp`). */
  key: string;
  /** commander's spelling: `-s, --strategy <list>`, `--no-preflight`. */
  option: string;
  help: string;
  /**
   * What it takes, which is also its config-file form: `text` a string; `list` a comma list (a
   * YAML list or string); `whole` a whole number; `switch` true or false; `pairs` repeatable
   * KEY=VALUE (a YAML map, or a list of KEY=VALUE).
   */
  value: 'text' | 'list' | 'whole' | 'switch' | 'pairs';
  /** commander's default, which --help shows; absent when the default depends on other flags. */
  default?: string;
  /** commander's choices (checked, and listed in --help). */
  choices?: readonly string[];
  /** The other half of a switch that has both forms (`--warm-up` / `--no-warm-up`). */
  negation?: { option: string; help: string };
  /** Its config-file key: the long name unless `false` (a flag that names the config file itself, say). */
  config?: false;
  /** A path given in a config file is relative to the file. */
  path?: true;
}

/** The parsed flags' type from a table: strings, lists of them for `pairs`, booleans for `switch`. */
export type FlagValues<T extends readonly FlagSpec[]> = {
  [F in T[number] as F['key']]?: F['value'] extends 'switch' ? boolean : F['value'] extends 'pairs' ? string[] : string;
};

/** The long name, as users type it and as the config file keys it: `--request-timeout` gives `request-timeout`. */
export function longName(flag: FlagSpec): string {
  return /--(?:no-)?([a-z][a-z-]*)/.exec(flag.option)![1]!;
}

export function parseInteger(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const trimmed = value.trim();
  const number = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, got "${value}"`);
  }
  return number;
}

export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag}: expected ${allowed.length === 1 ? allowed[0] : `one of ${allowed.join(', ')}`}, got "${value}"${didYouMean(value, allowed)}`);
  }
  return value as T;
}

export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}
