import { parentPort, workerData } from 'node:worker_threads';
import { isControlCommand, runCommand } from './control.js';
import { startProxy, type BalancerEvent } from './proxy.js';
import { balancerSettingsSchema, firstProblem } from './messages.js';
import type { BalancerSettings } from './settings.js';

// The balancer runs on its own thread so that its work never sits on the driver's event loop
// and distorts the latencies the driver measures.
const port = parentPort!;
const emit = (event: BalancerEvent) => port.postMessage(event);

try {
  // Checked like a standalone balancer's settings: hactl builds them, but a wrong one should
  // fail the start with its name, not deep in the proxy.
  const settings = balancerSettingsSchema.safeParse(workerData);
  if (!settings.success) throw new Error(`invalid balancer settings: ${firstProblem(settings.error)}`);
  const proxy = await startProxy(settings.data as BalancerSettings, emit);
  port.on('message', (message: { type: string }) => {
    if (message.type === 'stop') void proxy.stop().finally(() => port.postMessage({ type: 'stopped' }));
    else if (isControlCommand(message)) void runCommand(proxy, message).then((reply) => port.postMessage(reply));
  });
} catch (error) {
  emit({ type: 'error', message: error instanceof Error ? error.message : String(error) });
}
