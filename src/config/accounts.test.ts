import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../platform/errors.js';
import { accountsShortfall, parseAccounts, splitCsvLine } from './accounts.js';
import { loadAppProfile } from './app-profile.js';

describe('accounts CSV', () => {
  it('splits plain and quoted fields, with commas and doubled quotes inside quotes', () => {
    expect(splitCsvLine('a,b,c', 'f:1')).toEqual(['a', 'b', 'c']);
    expect(splitCsvLine('"a,1","say ""hi""",', 'f:1')).toEqual(['a,1', 'say "hi"', '']);
    expect(splitCsvLine(' spaced , kept ', 'f:1')).toEqual([' spaced ', ' kept ']);
    expect(splitCsvLine('""', 'f:1')).toEqual(['']);
  });

  it('rejects a quote left open, text after a closing quote, a stray quote', () => {
    expect(() => splitCsvLine('"open,b', 'f.csv:3')).toThrow('f.csv:3: a quoted field is not closed on its line');
    expect(() => splitCsvLine('"a"x,b', 'f.csv:3')).toThrow('f.csv:3: expected a comma after a quoted field, got "x"');
    expect(() => splitCsvLine('a"b', 'f.csv:3')).toThrow('f.csv:3: a quote inside an unquoted field');
  });

  it('makes an account per row, named by the header, skipping blank lines, a BOM and CRLF', () => {
    const accounts = parseAccounts('\uFEFFuserId,userNm,password\r\nalice,Alice A,"p,w""1"\r\n\r\nbob,Bob,secret\r\n', 'a.csv');
    expect(accounts.columns).toEqual(['userId', 'userNm', 'password']);
    expect(accounts.rows).toEqual([
      { userId: 'alice', userNm: 'Alice A', password: 'p,w"1' },
      { userId: 'bob', userNm: 'Bob', password: 'secret' },
    ]);
  });

  it.each([
    ['', 'a.csv: expected a header row naming the columns'],
    ['userId,password\n', 'a.csv: expected a row per account below the header; found none'],
    ['user id,password\nx,y\n', 'a.csv:1: column "user id": expected a name of letters and digits'],
    ['email,email\nx,y\n', 'a.csv:1: column "email" appears twice'],
    ['userId,password\nx,y\nz\n', 'a.csv:3: expected 2 fields (userId, password), got 1'],
  ])('rejects %j with one line', (text, message) => {
    expect(() => parseAccounts(text, 'a.csv')).toThrow(UsageError);
    expect(() => parseAccounts(text, 'a.csv')).toThrow(message);
  });

  it('says when there are fewer accounts than users', () => {
    const profile = { accounts: [{ a: '1' }, { a: '2' }, { a: '3' }, { a: '4' }, { a: '5' }], accountsSource: 'accounts.csv' };
    expect(accountsShortfall(profile, 30)).toBe('accounts.csv has 5 accounts; --users 30 needs 30 (add rows, or lower --users)');
    expect(accountsShortfall(profile, 5)).toBeUndefined();
    expect(accountsShortfall({}, 30)).toBeUndefined();
  });
});

describe('a profile with users: accounts.csv', () => {
  const withFiles = async (profile: string, csv: string | undefined, check: (file: string) => Promise<void>) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hactl-accounts-'));
    try {
      await writeFile(path.join(dir, 'app.yaml'), profile);
      if (csv !== undefined) await writeFile(path.join(dir, 'accounts.csv'), csv);
      await check(path.join(dir, 'app.yaml'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const profile = (login: string, hit = "'$.user': '{{email}}'") => `name: shop
cookie: SID
users: accounts.csv
login: { method: POST, path: /login, ${login} }
read: { path: /me, hit: { json: { ${hit} } } }
logout: { method: POST, path: /logout }
`;

  it("fills the file's columns into the login and the hit predicate; rows in order", async () => {
    await withFiles(profile("form: { email: '{{email}}', password: '{{password}}' }"), 'email,password\na@x.test,"p,1"\nb@x.test,p2\n', async (file) => {
      const app = await loadAppProfile(file);
      expect(app.accounts).toEqual([{ email: 'a@x.test', password: 'p,1' }, { email: 'b@x.test', password: 'p2' }]);
      expect(app.accountsSource).toBe(path.join(path.dirname(file), 'accounts.csv'));
      expect(app.login[0]!.request(app.accounts![0]!).body).toBe('email=a%40x.test&password=p%2C1');
      expect(app.isHit(200, '{"user":"b@x.test"}', app.accounts![1]!)).toBe(true);
      expect(app.isHit(200, '{"user":"b@x.test"}', app.accounts![0]!)).toBe(false);
    });
  });

  it('rejects a field the file has no column for, naming the ones it has', async () => {
    await withFiles(profile("json: { id: '{{userId}}', pw: '{{password}}' }"), 'email,password\na,b\n', async (file) => {
      await expect(loadAppProfile(file)).rejects.toThrow('login.json');
    });
    await withFiles(profile("form: { email: '{{email}}' }", "'$.user': '{{userNm}}'"), 'email,password\na,b\n', async (file) => {
      await expect(loadAppProfile(file)).rejects.toThrow('unknown field {{userNm}}; expected {{email}}, {{password}}');
    });
  });

  it('says which file it could not read', async () => {
    await withFiles(profile("form: { email: '{{email}}' }"), undefined, async (file) => {
      await expect(loadAppProfile(file)).rejects.toThrow(`${file}: users: cannot read ${path.join(path.dirname(file), 'accounts.csv')}: ENOENT`);
    });
  });
});
