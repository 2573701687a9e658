import { describe, expect, it } from 'vitest';
import { compileJsonPath, validJsonPath } from '../platform/json-path.js';
import { compileTemplate, renderTemplate, TEMPLATE_FIELDS, templateProblem } from './template.js';

describe('profile templates', () => {
  it('fills known fields, keeps unknown ones, and escapes when asked', () => {
    expect(renderTemplate('{{userId}}:{{ userNm }}', { userId: 'a.b', userNm: 'Kim' })).toBe('a.b:Kim');
    expect(renderTemplate('{{userId}}', { userId: 'a.b' }, (text) => text.replace('.', '\\.'))).toBe('a\\.b');
    expect(renderTemplate('{{other}}', { userId: 'a' })).toBe('{{other}}');
  });

  it('compiles once and fills the same way every time, text around the fields kept', () => {
    const greeting = compileTemplate('<b>{{userNm}}</b> ({{userId}}) {{ other }}!');
    expect(greeting({ userId: 'u1', userNm: 'Kim' })).toBe('<b>Kim</b> (u1) {{ other }}!');
    expect(greeting({ userId: 'u2', userNm: 'Lee' })).toBe('<b>Lee</b> (u2) {{ other }}!');
    expect(compileTemplate('plain')({ userId: 'u1' })).toBe('plain');
    expect(compileTemplate('{{userId}}')({ userId: 7 }, (text) => `[${text}]`)).toBe('[7]');
  });

  it('names unknown fields, and fields in requests that take none', () => {
    expect(templateProblem('{{userId}}', TEMPLATE_FIELDS)).toBeUndefined();
    expect(templateProblem('{{pass}} {{pass}}', TEMPLATE_FIELDS)).toBe('unknown field {{pass}}; expected {{userId}}, {{userNm}}');
    expect(templateProblem('/u/{{userId}}', [])).toBe('{{userId}}: this request is the same for every user and takes no fields');
  });
});

describe('JSON paths', () => {
  const json = { user: { id: 'u1', roles: ['a', 'b'], 'odd key': 3 } };
  it.each([
    ['$.user.id', 'u1'],
    ['$.user.roles[1]', 'b'],
    ["$.user['odd key']", 3],
    ['$.user.missing.deeper', undefined],
    ['$', json],
  ])('%s', (path, value) => {
    expect(validJsonPath(path)).toBe(true);
    expect(compileJsonPath(path)(json)).toEqual(value);
  });

  it.each(['user.id', '$..id', '$.user[*]', '$.'])('rejects %s', (path) => expect(validJsonPath(path)).toBe(false));
});
