import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../platform/errors.js';
import { chooseStrategy, variantRecord } from '../strategies.js';
import type { Report } from './model.js';

/** The report's schema, documented in the repo: schema/report.v1.schema.json. */
export const REPORT_SCHEMA_FILE = fileURLToPath(new URL('../../schema/report.v1.schema.json', import.meta.url));

/** Checks a parsed report against the schema; every problem one line, naming where it is. */
export async function reportProblems(data: unknown): Promise<string[]> {
  // ajv is CommonJS and costs every command a little to load: only `hactl report` needs it.
  const require = createRequire(import.meta.url);
  const Ajv = require('ajv/dist/2020').default as typeof import('ajv').default;
  const addFormats = require('ajv-formats') as (ajv: InstanceType<typeof Ajv>) => void;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(await readFile(REPORT_SCHEMA_FILE, 'utf8')) as object);
  if (validate(data)) return [];
  return (validate.errors ?? []).slice(0, 10).map((error) => `${error.instancePath || '(top level)'}: ${error.message ?? 'is not valid'}`);
}

/** A JSON report written by `hactl run --format json`, read back for `hactl report`. */
export async function loadReport(file: string): Promise<Report> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read report ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not JSON (${(error as Error).message}); expected a report written by hactl run --format json`);
  }
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== 1) {
    throw new UsageError(`${file}: schemaVersion ${JSON.stringify(version)} is not one this hactl reads; expected a hactl JSON report with schemaVersion 1`);
  }
  const problems = await reportProblems(data);
  if (problems.length > 0) throw new UsageError(problems.map((problem) => `${file}: ${problem}`).join('\n'));
  return readAsToday(data as Report);
}

/**
 * A valid report in today's shapes. External reports written before the balancer was stated as
 * what hactl knows of it carry a cluster balancer's settings under kind `external` (a profile,
 * health checks, stickiness the deployment never had): read back, they say only the target and
 * the path probed, which were true. Reports written before rows' strategies and variants were
 * stated as data get them from their labels, read once here by the registry that wrote them.
 */
export function readAsToday(report: Report): Report {
  return withStrategyVariants(withExternalBalancer(report));
}

function withExternalBalancer(report: Report): Report {
  const balancer = report.settings.balancer as Report['settings']['balancer'] | { kind: 'external'; healthCheck?: { path?: string } };
  if (balancer.kind !== 'external' || 'target' in balancer) return report;
  const probePath = 'healthCheck' in balancer && typeof balancer.healthCheck?.path === 'string' ? balancer.healthCheck.path : '';
  return { ...report, settings: { ...report.settings, balancer: { kind: 'external', target: report.settings.app?.target ?? '', probePath } } };
}

function withStrategyVariants(report: Report): Report {
  // Typed as always there, which a report written before the field is not.
  if ((report.settings as Partial<Report['settings']>).strategyVariants) return report;
  const labels = [...new Set([...report.settings.strategies, ...report.results.map((row) => row.strategy)])];
  const strategyVariants = labels.flatMap((label) => {
    const choice = chooseStrategy(label);
    // A label this hactl does not know stays unexplained: its figures are shown, with no strategy's extras.
    return typeof choice === 'string' ? [] : [variantRecord(choice)];
  });
  return { ...report, settings: { ...report.settings, strategyVariants } };
}
