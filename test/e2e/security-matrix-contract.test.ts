import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/driver/records.js';
import { cellsOf, FINDINGS, judge, MODES, renderMatrix, type Mode } from './security-matrix.js';

/** The security matrix's contract (security-matrix.ts) on made-up findings: it must catch wrong cells, not only accept right ones. */
const mode = (name: string): Mode => MODES.find((one) => one.name === name)!;
const finding = (id: string, passed: boolean | null, summary = '', evidence: Finding['evidence'] = {}): Finding => ({ id, title: id, passed, summary, evidence });
const allPassing = (): Finding[] =>
  FINDINGS.map((id) =>
    id === 'cookie-secure' ? finding(id, null, 'not checked: served over plain HTTP') : finding(id, true, 'fine'),
  );

describe('the security matrix contract', () => {
  it('a weakness whose finding passes is a wrong cell; failing it is right', () => {
    expect(judge(mode('no-httponly'), 'redis', 'cookie-httponly', finding('cookie-httponly', true))).toMatch(/^FAIL/);
    expect(judge(mode('no-httponly'), 'redis', 'cookie-httponly', finding('cookie-httponly', false))).toBeUndefined();
    expect(judge(mode('no-httponly'), 'redis', 'cookie-httponly', finding('cookie-httponly', null, 'not conclusive: x'))).toMatch(/^FAIL/);
  });

  it('every other finding passes: an n/a, even one saying why, is wrong; a missing one is wrong', () => {
    expect(judge(mode('secure'), 'sticky', 'cookie-path', finding('cookie-path', false))).toBeDefined();
    expect(judge(mode('secure'), 'sticky', 'cookie-path', finding('cookie-path', null, 'no reason'))).toBeDefined();
    // A check that stopped judging (say, fixation never reaching the replica that holds the plant) must not hide in n/a.
    expect(judge(mode('secure'), 'sticky', 'idle-timeout', finding('idle-timeout', null, 'idle timeout 2 s: …; not conclusive: replays did not reach every replica'))).toBeDefined();
    expect(judge(mode('no-httponly'), 'none', 'session-fixation', finding('session-fixation', null, 'not conclusive: 3/10 victims…'))).toBeDefined();
    expect(judge(mode('secure'), 'sticky', 'idle-timeout', finding('idle-timeout', true))).toBeUndefined();
    expect(judge(mode('secure'), 'sticky', 'cookie-secure', finding('cookie-secure', true))).toBeDefined();
    expect(judge(mode('secure'), 'sticky', 'idle-timeout', undefined)).toBeDefined();
  });

  it('a mode run with 30 ids must leave id quality not conclusive; the full sample must pass', () => {
    expect(judge(mode('no-samesite'), 'none', 'session-id-quality', finding('session-id-quality', true))).toBeDefined();
    expect(judge(mode('no-samesite'), 'none', 'session-id-quality', finding('session-id-quality', null, '30 ids …; not conclusive: a sample of 30'))).toBeUndefined();
    expect(judge(mode('secure'), 'none', 'session-id-quality', finding('session-id-quality', null, 'not conclusive'))).toBeDefined();
    expect(judge(mode('secure'), 'none', 'session-id-quality', finding('session-id-quality', true))).toBeUndefined();
    expect(judge(mode('predictable-ids'), 'none', 'session-id-quality', finding('session-id-quality', null, 'not conclusive'))).toBeDefined();
  });

  it('logout on none may fail only as the replica\'s doing; logout-keeps-session must show the app kept it', () => {
    const logout = (passed: boolean, evidence: Finding['evidence']) => finding('logout-invalidates', passed, 's', evidence);
    expect(judge(mode('secure'), 'none', 'logout-invalidates', logout(false, {}))).toBeDefined();
    expect(judge(mode('secure'), 'none', 'logout-invalidates', logout(false, { loggedOutElsewhere: 4, keptByLoggingOutReplica: 0 }))).toBeUndefined();
    expect(judge(mode('secure'), 'none', 'logout-invalidates', logout(false, { loggedOutElsewhere: 4, keptByLoggingOutReplica: 1 }))).toBeDefined();
    expect(judge(mode('secure'), 'redis', 'logout-invalidates', logout(false, { loggedOutElsewhere: 4, keptByLoggingOutReplica: 0 }))).toBeDefined();
    expect(judge(mode('logout-keeps-session'), 'redis', 'logout-invalidates', logout(false, { keptByLoggingOutReplica: 0 }))).toBeDefined();
    expect(judge(mode('logout-keeps-session'), 'sticky', 'logout-invalidates', logout(false, { keptByLoggingOutReplica: 3 }))).toBeUndefined();
    expect(judge(mode('logout-keeps-session'), 'none', 'logout-invalidates', logout(false, {}))).toBeUndefined();
  });

  it('adopt-ids may fail fixation on none only, and only by an id kept at login', () => {
    const adopt = mode('adopt-ids ID_CASE=lower');
    expect(judge(adopt, 'none', 'session-fixation', finding('session-fixation', false, 's', { idUnchangedAtLogin: 3 }))).toBeUndefined();
    expect(judge(adopt, 'none', 'session-fixation', finding('session-fixation', false, 's', { idUnchangedAtLogin: 0 }))).toBeDefined();
    expect(judge(adopt, 'redis', 'session-fixation', finding('session-fixation', false, 's', { idUnchangedAtLogin: 3 }))).toBeDefined();
    // The planted stickiness cookie takes the victim to the replica holding the id, which replaces it.
    expect(judge(adopt, 'sticky', 'session-fixation', finding('session-fixation', false, 's', { idUnchangedAtLogin: 3 }))).toBeDefined();
    expect(judge(adopt, 'sticky', 'session-fixation', finding('session-fixation', true))).toBeUndefined();
  });

  it('predictable ids may also fail the forged-id read: a forged id of their shape can be a real one', () => {
    expect(judge(mode('predictable-ids'), 'none', 'forged-id-read', finding('forged-id-read', false, 's', { readsShowingData: 2 }))).toBeUndefined();
    expect(judge(mode('secure'), 'none', 'forged-id-read', finding('forged-id-read', false, 's', { readsShowingData: 2 }))).toBeDefined();
    expect(judge(mode('predictable-ids'), 'none', 'forged-id-read', finding('forged-id-read', null, 'not conclusive'))).toBeDefined();
  });

  it('prints every cell, marking the wrong ones and saying what was wanted', () => {
    const cells = [...cellsOf(mode('secure'), 'redis', allPassing()), ...cellsOf(mode('no-samesite'), 'redis', allPassing())];
    const text = renderMatrix(cells);
    expect(text).toMatch(/^secure \| redis +pass {2}/m);
    expect(text).toMatch(/^no-samesite \| redis .*pass ! /m);
    // Its weakness passed, and its 30 ids (the full 1,000 made up here) judged id quality.
    expect(text).toContain('2 wrong cells (!):\n  no-samesite | redis | cookie-samesite: pass, wanted FAIL');
    expect(text).toContain('  no-samesite | redis | session-id-quality: pass, wanted n/a');
    expect(renderMatrix(cellsOf(mode('secure'), 'redis', allPassing()))).toContain('every cell as the contract says');
  });
});
