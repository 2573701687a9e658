import { describe, expect, it } from 'vitest';
import { BALANCER_TAG, captureGroups, compileReplicaIdentity, replicaOf, type Answer } from './replica-identity.js';

const answer = (fields: Partial<Answer> = {}): Answer => ({ status: 200, headers: [], body: '', setCookies: [], ...fields });

describe('replica identity from an app profile source', () => {
  it('takes the last hop of a comma list from a header, trimmed: the replica that answered after a retry', () => {
    const identity = compileReplicaIdentity({ header: 'X-Upstream' });
    expect(identity.header).toBe('x-upstream');
    expect(replicaOf(identity, answer({ headers: [['x-upstream', '127.0.0.1:18081']] }))).toBe('127.0.0.1:18081');
    expect(replicaOf(identity, answer({ headers: [['x-upstream', '127.0.0.1:18081, 127.0.0.1:18082']] }))).toBe('127.0.0.1:18082');
    expect(replicaOf(identity, answer({ headers: [['x-upstream', '  web-2  ']] }))).toBe('web-2');
    // A repeated header is one list: its last value's last hop.
    expect(replicaOf(identity, answer({ headers: [['x-upstream', 'a'], ['x-upstream', 'b, c']] }))).toBe('c');
    expect(replicaOf(identity, answer({ headers: [['x-other', 'a']] }))).toBeNull();
    expect(replicaOf(identity, answer({ headers: [['x-upstream', '']] }))).toBeNull();
    expect(replicaOf(identity, answer({ headers: [['x-upstream', 'a, ']] }))).toBeNull();
  });

  it("attributes a proxy's own 502, 503 and 504 to no replica, and other statuses to the one named", () => {
    const identity = compileReplicaIdentity({ header: 'X-Upstream' });
    for (const status of [502, 503, 504]) expect(replicaOf(identity, answer({ status, headers: [['x-upstream', '127.0.0.1:18081']] }))).toBeNull();
    for (const status of [200, 303, 401, 500]) expect(replicaOf(identity, answer({ status, headers: [['x-upstream', '127.0.0.1:18081']] }))).toBe('127.0.0.1:18081');
  });

  it('applies the pattern (its group, or the whole match) and then the map of names; no match names no replica', () => {
    const port = compileReplicaIdentity({ header: 'x-upstream', pattern: ':(\\d+)$', names: { '18081': 'web-1' } });
    expect(replicaOf(port, answer({ headers: [['x-upstream', '127.0.0.1:18080, 127.0.0.1:18081']] }))).toBe('web-1');
    expect(replicaOf(port, answer({ headers: [['x-upstream', '127.0.0.1:18082']] }))).toBe('18082');
    expect(replicaOf(port, answer({ headers: [['x-upstream', 'unix:/run/app.sock']] }))).toBeNull();
    const whole = compileReplicaIdentity({ header: 'x-upstream', pattern: 'web-\\d+' });
    expect(replicaOf(whole, answer({ headers: [['x-upstream', 'pod web-12 (ready)']] }))).toBe('web-12');
    const mapped = compileReplicaIdentity({ header: 'x-upstream', names: { '127.0.0.1:18081': 'web-1' } });
    expect(replicaOf(mapped, answer({ headers: [['x-upstream', '127.0.0.1:18081']] }))).toBe('web-1');
    expect(replicaOf(mapped, answer({ headers: [['x-upstream', 'toString']] }))).toBe('toString');
  });

  it('reads a JSON path only when the body is JSON and the value a string or a number', () => {
    const identity = compileReplicaIdentity({ json: '$.served.by' });
    expect(identity.header).toBeUndefined();
    expect(replicaOf(identity, answer({ body: '{"served":{"by":"web-3"}}' }))).toBe('web-3');
    expect(replicaOf(identity, answer({ body: '{"served":{"by":2}}' }))).toBe('2');
    expect(replicaOf(identity, answer({ body: '{"served":{"by":null}}' }))).toBeNull();
    expect(replicaOf(identity, answer({ body: '{"served":{"by":{"id":1}}}' }))).toBeNull();
    expect(replicaOf(identity, answer({ body: '{"served":{}}' }))).toBeNull();
    expect(replicaOf(identity, answer({ body: '<html>web-3</html>' }))).toBeNull();
    expect(replicaOf(identity, answer({ status: 503, body: '{"served":{"by":"web-3"}}' }))).toBeNull();
  });

  it("reads a cookie from this answer's Set-Cookie headers only, the last of that name", () => {
    const identity = compileReplicaIdentity({ cookie: 'SERVERID' });
    expect(replicaOf(identity, answer({ setCookies: ['SID=abc; Path=/', 'SERVERID=s2; Path=/'] }))).toBe('s2');
    expect(replicaOf(identity, answer({ setCookies: ['SERVERID=s1', 'SERVERID="s3"; HttpOnly'] }))).toBe('s3');
    expect(replicaOf(identity, answer({ setCookies: ['SERVERID2=s1', 'XSERVERID=s1'] }))).toBeNull();
    expect(replicaOf(identity, answer({ setCookies: ['SERVERID=; Max-Age=0'] }))).toBeNull();
    expect(replicaOf(identity, answer({ headers: [['cookie', 'SERVERID=s1']] }))).toBeNull();
    expect(replicaOf(identity, answer({ status: 502, setCookies: ['SERVERID=s1'] }))).toBeNull();
  });
});

describe("hactl's balancer's tag (no profile source)", () => {
  it('is x-hactl-replica as sent, its 5xx tagged too, and a repeated tag names no single replica', () => {
    expect(BALANCER_TAG.fromProfile).toBe(false);
    expect(replicaOf(BALANCER_TAG, answer({ headers: [['x-hactl-replica', 'replica-2']] }))).toBe('replica-2');
    expect(replicaOf(BALANCER_TAG, answer({ status: 504, headers: [['x-hactl-replica', 'replica-2']] }))).toBe('replica-2');
    expect(replicaOf(BALANCER_TAG, answer({ headers: [['x-hactl-replica', 'replica-1'], ['x-hactl-replica', 'replica-2']] }))).toBeNull();
    expect(replicaOf(BALANCER_TAG, answer({ headers: [['x-upstream', 'a']] }))).toBeNull();
    expect(compileReplicaIdentity(undefined)).toBe(BALANCER_TAG);
  });
});

describe('captureGroups', () => {
  it('counts capturing groups, not the non-capturing ones', () => {
    expect(captureGroups('abc')).toBe(0);
    expect(captureGroups(':(\\d+)$')).toBe(1);
    expect(captureGroups('(?:a|b)-(\\d+)')).toBe(1);
    expect(captureGroups('(a)(b)')).toBe(2);
    expect(() => captureGroups('([')).toThrow();
  });
});
