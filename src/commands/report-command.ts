import { writeFile } from 'node:fs/promises';
import { checkWritable } from '../config/options.js';
import { UsageError } from '../platform/errors.js';
import { loadReport } from '../report/load.js';
import { FORMAT_NAMES, renderers, type FormatName, type RenderOptions } from '../report/renderers.js';
import { terminalWidth } from '../report/terminal-width.js';
import { reportError } from './report-error.js';

export interface ReportFlags {
  format: string;
  out?: string;
  pricing?: string;
}

/** `hactl report FILE`: a saved JSON report rendered again, in any format, without running anything. */
export async function reportCommand(file: string, flags: ReportFlags): Promise<number> {
  try {
    if (!(FORMAT_NAMES as readonly string[]).includes(flags.format)) throw new UsageError(`--format: expected one of ${FORMAT_NAMES.join(', ')}, got "${flags.format}"`);
    const format = flags.format as FormatName;
    if (flags.out !== undefined) await checkWritable('--out', flags.out);
    const report = await loadReport(file);
    const width = flags.out === undefined ? terminalWidth(process.stdout, process.env) : undefined;
    const options: RenderOptions = {
      color: flags.out === undefined && format === 'table' && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
      ...(width !== undefined ? { width } : {}),
      ...(flags.pricing !== undefined ? { pricing: await (await import('../report/pricing.js')).loadPricing(flags.pricing) } : {}),
    };
    const text = renderers[format](report, options);
    if (flags.out === undefined) process.stdout.write(text);
    else {
      await writeFile(flags.out, text);
      process.stderr.write(`hactl: ${format} report written to ${flags.out}\n`);
    }
    return 0;
  } catch (error) {
    return reportError(error, false);
  }
}
