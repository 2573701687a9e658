import { writeFile } from 'node:fs/promises';
import { DEFAULT_CONFIG_FILE } from '../config/config-file.js';
import { STARTER_CONFIG } from '../config/starter.js';
import { UsageError } from '../platform/errors.js';
import { reportError } from './report-error.js';

/** `hactl init`: a commented starter config, never over an existing file unless --force. */
export async function initCommand(file: string | undefined, flags: { force?: boolean }): Promise<number> {
  const target = file ?? DEFAULT_CONFIG_FILE;
  try {
    await writeFile(target, STARTER_CONFIG, { flag: flags.force ? 'w' : 'wx' }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') throw new UsageError(`${target} exists already; keep it, or overwrite it with hactl init --force`);
      throw new UsageError(`cannot write ${target}: ${error.code ?? error.message}`);
    });
    process.stdout.write(`hactl: wrote ${target}; run it with: hactl run${file === undefined ? '' : ` --config ${target}`}\n`);
    return 0;
  } catch (error) {
    return reportError(error, false);
  }
}
