// Bundles the demo app, the standalone balancer and the fault proxy into one file each, for container images:
// the image is then a Node base image plus two files, built without npm or a network.
import { build } from 'esbuild';

// Optional dependencies of the MongoDB and PostgreSQL drivers, loaded only when configured.
const optional = ['kerberos', '@mongodb-js/zstd', 'snappy', 'aws4', 'mongodb-client-encryption', '@aws-sdk/credential-providers', 'gcp-metadata', 'socks', 'pg-native'];

await build({
  entryPoints: { 'demo-app': 'src/app/server.ts', balancer: 'src/balancer/standalone.ts', 'fault-proxy': 'src/faults/standalone.ts' },
  outdir: 'dist/bundle',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: optional,
  // CommonJS dependencies call require(); an ES module bundle has to provide it.
  banner: { js: "import { createRequire as __hactlCreateRequire } from 'node:module'; const require = __hactlCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
