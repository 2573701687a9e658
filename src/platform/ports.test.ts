import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePorts } from './ports.js';

describe('freePorts', () => {
  it('hands out distinct ports that can then be bound on 127.0.0.1', async () => {
    const ports = await freePorts(16);
    expect(new Set(ports).size).toBe(16);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(ports[0], '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });
});
