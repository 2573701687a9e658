import type { Report } from './model.js';
import { renderMarkdown } from './markdown.js';
import { renderTable } from './table.js';

export interface RenderOptions {
  color: boolean;
}

/** Report formats, keyed by the name users type after --format. */
export const renderers = {
  table: renderTable,
  json: (report: Report) => `${JSON.stringify(report, null, 2)}\n`,
  markdown: renderMarkdown,
} satisfies Record<string, (report: Report, options: RenderOptions) => string>;

export type FormatName = keyof typeof renderers;
export const FORMAT_NAMES = Object.keys(renderers) as FormatName[];
