import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { untilListening } from './index.js';

describe('waiting for the balancer thread to listen', () => {
  it('gives the port it reports', async () => {
    const worker = new EventEmitter();
    const port = untilListening(worker, '127.0.0.1:(free port)');
    worker.emit('message', { type: 'listening', port: 41234 });
    await expect(port).resolves.toBe(41234);
  });

  it('passes on the error that killed the thread, not only its exit code', async () => {
    const worker = new EventEmitter();
    const port = untilListening(worker, '127.0.0.1:8080');
    worker.emit('error', new Error("Cannot find module '/x/dist/balancer/proxy.js'"));
    worker.emit('exit', 1);
    await expect(port).rejects.toThrow("balancer thread failed before listening on 127.0.0.1:8080: Cannot find module '/x/dist/balancer/proxy.js'");
  });

  it('says where it could not start, and why', async () => {
    const worker = new EventEmitter();
    const port = untilListening(worker, '127.0.0.1:8080');
    worker.emit('message', { type: 'error', message: 'listen EADDRINUSE: address already in use 127.0.0.1:8080' });
    await expect(port).rejects.toThrow('balancer could not start on 127.0.0.1:8080: listen EADDRINUSE');
  });

  it('names an exit without an error', async () => {
    const worker = new EventEmitter();
    const port = untilListening(worker, '127.0.0.1:8080');
    worker.emit('exit', 137);
    await expect(port).rejects.toThrow('balancer thread exited with code 137 before listening on 127.0.0.1:8080');
  });
});
