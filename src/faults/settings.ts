import type { Endpoint } from './link.js';

export interface FaultProxySettings {
  listen: Endpoint;
  upstream: Endpoint;
  admin: Endpoint;
}

/**
 * The standalone fault proxy's settings, from its environment (how both the local and the docker
 * runtime start it): HACTL_FAULT_PROXY_LISTEN, HACTL_FAULT_PROXY_UPSTREAM and
 * HACTL_FAULT_PROXY_ADMIN, each host:port ([v6-address]:port for IPv6). Port 0 takes a free one.
 */
export function readFaultProxySettings(env: NodeJS.ProcessEnv): FaultProxySettings {
  return {
    listen: endpointFrom(env, 'HACTL_FAULT_PROXY_LISTEN'),
    upstream: endpointFrom(env, 'HACTL_FAULT_PROXY_UPSTREAM'),
    admin: endpointFrom(env, 'HACTL_FAULT_PROXY_ADMIN'),
  };
}

function endpointFrom(env: NodeJS.ProcessEnv, name: string): Endpoint {
  const value = env[name]?.trim();
  if (!value) throw new Error(`${name} is not set; expected host:port, e.g. 127.0.0.1:7000`);
  const colon = value.lastIndexOf(':');
  const host = value.slice(0, Math.max(colon, 0)).replace(/^\[(.*)\]$/, '$1');
  const port = Number(value.slice(colon + 1));
  if (colon < 0 || host === '' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${name}=${value} is not host:port; expected e.g. 127.0.0.1:7000`);
  }
  return { host, port };
}
