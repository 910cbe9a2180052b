/** Report formats for `--format` and `--report FILE`: JSON (report v1), Markdown, HTML. */
import { extname } from 'node:path';
import { UsageError } from '../errors.js';
import type { Report } from '../report/types.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { RenderOptions } from './view.js';

export type ReportFormat = 'json' | 'markdown' | 'html';

export const REPORT_FORMATS: readonly ReportFormat[] = ['json', 'markdown', 'html'];

const BY_EXTENSION: Record<string, ReportFormat> = {
  '.json': 'json',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.html': 'html',
  '.htm': 'html',
};

/** Checks a `--format` value. */
export function parseReportFormat(text: string | undefined): ReportFormat | undefined {
  if (text === undefined) return undefined;
  const format = (REPORT_FORMATS as readonly string[]).includes(text)
    ? (text as ReportFormat)
    : text === 'md'
      ? 'markdown'
      : undefined;
  if (format === undefined) throw new UsageError(`--format ${text}: expected json, markdown or html`);
  return format;
}

/** The format for a report file: `--format` when given, else the file's extension, else JSON. */
export function formatForPath(path: string, explicit: ReportFormat | undefined): ReportFormat {
  return explicit ?? BY_EXTENSION[extname(path).toLowerCase()] ?? 'json';
}

/** The report as text in `format`. */
export function renderReport(report: Report, format: ReportFormat, options: RenderOptions = {}): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'markdown':
      return renderMarkdown(report, options);
    case 'html':
      return renderHtml(report, options);
  }
}
