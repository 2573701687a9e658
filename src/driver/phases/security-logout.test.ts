import { describe, expect, it } from 'vitest';
import { survivalCause } from './security-logout.js';

describe("whose failure a session served after its logout is", () => {
  it("the app's when the replica that answered the logout still serves it", () => {
    const cause = survivalCause([{ loggedOutBy: 'replica-1', servedBy: new Set(['replica-1']) }], true);
    expect(cause.counts).toEqual({ keptByLoggingOutReplica: 1, loggedOutElsewhere: 0, causeUnknown: 0 });
    expect(cause.text).toBe('1 kept by the replica that answered the logout (logged out on replica-1, served by replica-1): the app does not end the session at logout');
  });

  it("the deployment's when only other replicas serve it, grouped by replica", () => {
    const survivals = [
      { loggedOutBy: 'replica-2', servedBy: new Set(['replica-1']) },
      { loggedOutBy: 'replica-2', servedBy: new Set(['replica-1']) },
      { loggedOutBy: 'replica-3', servedBy: new Set(['replica-2']) },
    ];
    const cause = survivalCause(survivals, true);
    expect(cause.counts).toEqual({ keptByLoggingOutReplica: 0, loggedOutElsewhere: 3, causeUnknown: 0 });
    expect(cause.text).toMatch(/^3 served only by a replica other than the one that answered the logout \(logged out on replica-2, served by replica-1 \(x2\) \/ logged out on replica-3, served by replica-2\): the logout did not reach/);
    expect(cause.text).not.toMatch(/the app does not end/);
    // Behind a shared store the same answers mean a replica kept a copy of its own: the app's.
    const shared = survivalCause(survivals, false);
    expect(shared.counts).toEqual(cause.counts);
    expect(shared.text).toMatch(/kept a copy of its own \(a cache\?\) that the logout did not end: the app does not end the session everywhere$/);
  });

  it('unknown when the answers name no replica; nothing to say when nothing survived', () => {
    expect(survivalCause([{ loggedOutBy: null, servedBy: new Set() }], true).counts).toEqual({ keptByLoggingOutReplica: 0, loggedOutElsewhere: 0, causeUnknown: 1 });
    expect(survivalCause([], true)).toEqual({ counts: { keptByLoggingOutReplica: 0, loggedOutElsewhere: 0, causeUnknown: 0 }, text: '' });
  });
});
