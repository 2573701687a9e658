import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { UsageError } from './errors.js';
import { formatPath } from './paths.js';

/**
 * A YAML file the user gave (scenario, app profile, config, pricing), parsed; a file that cannot
 * be read or parsed is one line: `cannotRead` (e.g. "--config: cannot read") and the file, or
 * the file and YAML's own first line.
 */
export async function readYamlFile(file: string, cannotRead: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${cannotRead} ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return parseYaml(text);
  } catch (error) {
    throw new UsageError(`${file}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** Parses with a schema, or throws every problem as a line of its own: `file: path: what was expected`. */
export function parseWith<Schema extends z.ZodType>(schema: Schema, data: unknown, file: string): z.output<Schema> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => issueLine(file, issue)).join('\n'));
  return parsed.data;
}

/** One schema problem as a line: `file: path: what was expected`. */
export function issueLine(file: string, issue: Pick<z.core.$ZodIssue, 'path' | 'message'>): string {
  return `${file}: ${formatPath(issue.path)}: ${issue.message}`;
}
