import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppProfile, Identity } from '../driver/app-profile.js';
import { UsageError } from '../platform/errors.js';

/**
 * Test accounts for an app with real logins: the app profile's `users: accounts.csv`, a CSV file
 * with a header row whose column names become the profile's template fields ({{password}}).
 */
export interface Accounts {
  /** The file, as the profile's folder joined to what `users:` says. */
  file: string;
  columns: string[];
  rows: Identity[];
}

/** A column name must be usable as a template field: `{{name}}`. */
const COLUMN = /^[A-Za-z][A-Za-z0-9]*$/;

/** Reads the accounts file named by a profile's `users:` (relative to the profile file). */
export async function loadAccounts(profileFile: string, users: string): Promise<Accounts> {
  const file = path.isAbsolute(users) ? users : path.join(path.dirname(profileFile), users);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${profileFile}: users: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseAccounts(text, file);
}

/**
 * A CSV file of accounts: the first line names the columns, every other non-blank line is one
 * account with as many fields. Fields are separated by commas; a field in double quotes may hold
 * commas and quotes (written twice). A field may not span lines. Values are kept as written
 * (spaces too: a password may have them).
 */
export function parseAccounts(text: string, file: string): Accounts {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const records: { line: number; fields: string[] }[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    records.push({ line: index + 1, fields: splitCsvLine(line, `${file}:${index + 1}`) });
  });
  const [header, ...rows] = records;
  if (!header) throw new UsageError(`${file}: expected a header row naming the columns (such as userId,userNm,password) and a row per account; the file is empty`);
  const columns = header.fields.map((name) => name.trim());
  for (const name of columns) {
    if (!COLUMN.test(name)) throw new UsageError(`${file}:${header.line}: column "${name}": expected a name of letters and digits starting with a letter, usable as {{${name || 'name'}}} in the profile`);
  }
  const repeated = columns.find((name, index) => columns.indexOf(name) !== index);
  if (repeated) throw new UsageError(`${file}:${header.line}: column "${repeated}" appears twice`);
  if (rows.length === 0) throw new UsageError(`${file}: expected a row per account below the header; found none`);
  return {
    file,
    columns,
    rows: rows.map(({ line, fields }) => {
      if (fields.length !== columns.length) throw new UsageError(`${file}:${line}: expected ${columns.length} fields (${columns.join(', ')}), got ${fields.length}`);
      return Object.freeze(Object.fromEntries(columns.map((name, index) => [name, fields[index]!])));
    }),
  };
}

/** One CSV line's fields; `where` (file:line) names it in an error. */
export function splitCsvLine(line: string, where: string): string[] {
  const fields: string[] = [];
  let at = 0;
  for (;;) {
    if (line[at] === '"') {
      let value = '';
      let from = at + 1;
      for (;;) {
        const quote = line.indexOf('"', from);
        if (quote < 0) throw new UsageError(`${where}: a quoted field is not closed on its line (fields may not span lines; write a quote inside one as "")`);
        value += line.slice(from, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          from = quote + 2;
          continue;
        }
        at = quote + 1;
        break;
      }
      fields.push(value);
      if (at === line.length) return fields;
      if (line[at] !== ',') throw new UsageError(`${where}: expected a comma after a quoted field, got "${line[at]}"`);
      at++;
    } else {
      const comma = line.indexOf(',', at);
      const end = comma < 0 ? line.length : comma;
      const value = line.slice(at, end);
      if (value.includes('"')) throw new UsageError(`${where}: a quote inside an unquoted field; quote the whole field and write the quote as ""`);
      fields.push(value);
      if (comma < 0) return fields;
      at = comma + 1;
    }
  }
}

/** Why the profile's accounts cannot give every scenario user its own, or undefined. */
export function accountsShortfall(profile: Pick<AppProfile, 'accounts' | 'accountsSource'>, users: number): string | undefined {
  const count = profile.accounts?.length;
  if (count === undefined || count >= users) return undefined;
  return `${profile.accountsSource} has ${count} account${count === 1 ? '' : 's'}; --users ${users} needs ${users} (add rows, or lower --users)`;
}
