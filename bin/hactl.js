#!/usr/bin/env node
// The CLI is compiled TypeScript (npm install builds it); this file only finds and starts it.
let cli;
try {
  cli = await import('../dist/cli.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli.js')) throw error;
  process.stderr.write('hactl: not built yet; run `npm install` (or `npm run build`) in the hactl directory\n');
  process.exit(3);
}
process.exitCode = await cli.main(process.argv);
// Everything hactl started is stopped by now; a handle left open by a library must not keep the
// process alive (the timer is unref'd, so it fires only if something else still holds the loop).
setTimeout(() => process.exit(), 2_000).unref();
