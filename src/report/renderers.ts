import type { Report } from './model.js';
import { renderMarkdown } from './markdown.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { renderTable } from './table.js';

export interface RenderOptions {
  color: boolean;
  pricing?: import('./pricing.js').Pricing;
  /** The terminal's width, for the table only: it folds to fit. Undefined (a file, a pipe): every column on one line. */
  width?: number;
}

/** Report formats, keyed by the name users type after --format. */
export const renderers = {
  table: renderTable,
  json: (report: Report) => `${JSON.stringify(report, null, 2)}\n`,
  markdown: renderMarkdown,
  junit: renderJunit,
  html: renderHtml,
} satisfies Record<string, (report: Report, options: RenderOptions) => string>;

export type FormatName = keyof typeof renderers;
export const FORMAT_NAMES = Object.keys(renderers) as FormatName[];
