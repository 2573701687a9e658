// Regenerates compose/<strategy>.yaml from the generator (`npm run compose:update`); a test fails
// when the committed files and the generator disagree.
import { writeFileSync } from 'node:fs';
import { chooseStrategy, STRATEGY_NAMES } from '../dist/strategies.js';
import { composeFile } from '../dist/topology/compose.js';

for (const strategy of STRATEGY_NAMES) {
  writeFileSync(new URL(`../compose/${strategy}.yaml`, import.meta.url), composeFile({ strategy: chooseStrategy(strategy), replicas: 3, port: 8080, images: {}, buildContext: '..' }));
  console.log(`compose/${strategy}.yaml`);
}
