import { describe, expect, it } from 'vitest';
import { combineViews, fieldsOf, parseResp, sentinelView, type SentinelView } from './redis-sentinel-wire.js';

const resp = (text: string) => Buffer.from(text, 'utf8');

describe('parseResp', () => {
  it('reads simple strings, errors, integers, bulk strings and nulls, with where each ends', () => {
    expect(parseResp(resp('+OK\r\n'))).toEqual({ value: 'OK', end: 5 });
    expect(parseResp(resp('-ERR no such master\r\n'))).toEqual({ value: { error: 'ERR no such master' }, end: 21 });
    expect(parseResp(resp(':42\r\n'))).toEqual({ value: 42, end: 5 });
    expect(parseResp(resp('$5\r\nhello\r\n'))).toEqual({ value: 'hello', end: 11 });
    expect(parseResp(resp('$-1\r\n'))).toEqual({ value: null, end: 5 });
    expect(parseResp(resp('*-1\r\n'))).toEqual({ value: null, end: 5 });
  });

  it('reads nested arrays (SENTINEL MASTER, get-master-addr-by-name)', () => {
    expect(parseResp(resp('*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n'))?.value).toEqual(['127.0.0.1', '6380']);
    expect(parseResp(resp('*2\r\n*1\r\n:1\r\n$0\r\n\r\n'))?.value).toEqual([[1], '']);
  });

  it('waits for more bytes rather than answer with half a reply', () => {
    expect(parseResp(resp('*2\r\n$9\r\n127.0.0.1\r\n$4\r\n63'))).toBeUndefined();
    expect(parseResp(resp('$5\r\nhel'))).toBeUndefined();
    expect(parseResp(resp('+OK'))).toBeUndefined();
    expect(parseResp(resp(''))).toBeUndefined();
  });
});

describe('a Sentinel view', () => {
  const master = ['name', 'hactl', 'ip', '127.0.0.1', 'port', '40001', 'flags', 's_down,o_down,master', 'num-slaves', '2', 'num-other-sentinels', '2', 'config-epoch', '3'];

  it('is read from SENTINEL MASTER name/value pairs', () => {
    expect(sentinelView(fieldsOf(master))).toEqual({ address: '127.0.0.1:40001', objectivelyDown: true, replicas: 2, otherSentinels: 2, configEpoch: 3 });
    expect(sentinelView(fieldsOf(['flags', 'master']))).toBeUndefined();
    expect(fieldsOf('OK').size).toBe(0);
  });

  it('an s_down is not an o_down', () => {
    expect(sentinelView(fieldsOf(master.map((value) => (value === 's_down,o_down,master' ? 's_down,master' : value))))?.objectivelyDown).toBe(false);
  });

  it('together: the newest configuration names the primary; any Sentinel holding the current one o_down counts', () => {
    const view = (address: string, configEpoch: number, objectivelyDown = false): SentinelView => ({ address, objectivelyDown, replicas: 2, otherSentinels: 2, configEpoch });
    expect(combineViews([view('127.0.0.1:1', 0), view('127.0.0.1:2', 1), undefined], '127.0.0.1:1')).toEqual({ address: '127.0.0.1:2', primaryDown: false });
    expect(combineViews([view('127.0.0.1:1', 0, true), view('127.0.0.1:1', 0)], '127.0.0.1:1')).toEqual({ address: '127.0.0.1:1', primaryDown: true });
    // A stale o_down of an older primary is not the current one's.
    expect(combineViews([view('127.0.0.1:1', 0, true), view('127.0.0.1:2', 1)], '127.0.0.1:2')).toEqual({ address: '127.0.0.1:2', primaryDown: false });
    expect(combineViews([undefined, undefined], '127.0.0.1:1')).toBeUndefined();
  });
});
