/** Inline SVG charts: no script, no external resource, every label escaped. */
import { formatBytes } from '../report/units.js';
import { escapeHtml, formatMoney } from './format.js';

export interface BarPair {
  readonly label: string;
  readonly before: number;
  readonly after: number;
}

export const CHART_WIDTH = 760;
const LABEL_WIDTH = 220;
const VALUE_WIDTH = 150;
const PLOT_WIDTH = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH;
/** Wide enough for a 12px system-ui glyph (capitals and `m`/`w` included), so a label is never clipped. */
export const LABEL_CHAR_PX = 7.5;
/** Longer labels are cut in the middle (registry and repository tail stay); the full name is in the tooltip. */
const LABEL_MAX_CHARS = 60;

/** The label column of a bar chart: as wide as its longest (cut) label, at least the default. */
function labelWidth(labels: readonly string[]): number {
  const longest = Math.max(0, ...labels.map((label) => cutMiddle(label, LABEL_MAX_CHARS).length));
  return Math.max(LABEL_WIDTH, Math.ceil(longest * LABEL_CHAR_PX) + 16);
}
const ROW_HEIGHT = 34;
const BAR_HEIGHT = 12;

export const CHART_COLORS = {
  before: '#9aa5b1',
  after: '#2f6fde',
  cost: '#d9822b',
  line: '#2f6fde',
  lineAfter: '#2ca67a',
} as const;

/** Horizontal bars, one pair per row: bytes before (grey) and after (blue). */
export function bytesBarChart(rows: readonly BarPair[], title: string): string {
  const max = Math.max(1, ...rows.map((row) => Math.max(row.before, row.after)));
  const plotWidth = PLOT_WIDTH;
  const LABEL_WIDTH = labelWidth(rows.map((row) => row.label));
  const height = 30 + rows.length * ROW_HEIGHT + 10;
  const bars = rows
    .map((row, index) => {
      const y = 30 + index * ROW_HEIGHT;
      const beforeWidth = Math.max(row.before > 0 ? 1 : 0, (row.before / max) * plotWidth);
      const afterWidth = Math.max(row.after > 0 ? 1 : 0, (row.after / max) * plotWidth);
      const label = escapeHtml(row.label);
      return [
        `<g class="bar-pair" data-label="${label}">`,
        `<text x="${LABEL_WIDTH - 8}" y="${y + BAR_HEIGHT + 2}" text-anchor="end" ` +
          `class="label">${escapeHtml(cutMiddle(row.label, LABEL_MAX_CHARS))}<title>${label}</title></text>`,
        `<rect class="before" x="${LABEL_WIDTH}" y="${y}" width="${beforeWidth.toFixed(1)}" height="${BAR_HEIGHT}" ` +
          `fill="${CHART_COLORS.before}"><title>${label}: ${formatBytes(row.before)} before</title></rect>`,
        `<rect class="after" x="${LABEL_WIDTH}" y="${y + BAR_HEIGHT + 2}" width="${afterWidth.toFixed(1)}" ` +
          `height="${BAR_HEIGHT}" fill="${CHART_COLORS.after}"><title>${label}: ${formatBytes(row.after)} ` +
          `after</title></rect>`,
        `<text x="${LABEL_WIDTH + plotWidth + 8}" y="${y + BAR_HEIGHT + 2}" class="value">${formatBytes(row.before)} ` +
          `→ ${formatBytes(row.after)}</text>`,
        '</g>',
      ].join('');
    })
    .join('\n');
  return svg(
    height,
    title,
    [
      legend(
        [
          ['before', CHART_COLORS.before],
          ['after', CHART_COLORS.after],
        ],
        LABEL_WIDTH,
      ),
      bars,
    ].join('\n'),
    LABEL_WIDTH + plotWidth + VALUE_WIDTH,
  );
}

/** Horizontal bars of monthly cost, one per row, largest first as given. */
export function costBarChart(
  rows: readonly { label: string; cost: number; saved: number }[],
  currency: string | null,
  title: string,
): string {
  const max = Math.max(1e-9, ...rows.map((row) => row.cost));
  const plotWidth = PLOT_WIDTH;
  const LABEL_WIDTH = labelWidth(rows.map((row) => row.label));
  const height = 30 + rows.length * 24 + 10;
  const bars = rows
    .map((row, index) => {
      const y = 30 + index * 24;
      const width = Math.max(row.cost > 0 ? 1 : 0, (row.cost / max) * plotWidth);
      const label = escapeHtml(row.label);
      return [
        `<g class="cost-bar" data-label="${label}">`,
        `<text x="${LABEL_WIDTH - 8}" y="${y + 12}" text-anchor="end" ` +
          `class="label">${escapeHtml(cutMiddle(row.label, LABEL_MAX_CHARS))}<title>${label}</title></text>`,
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="16" ` +
          `fill="${CHART_COLORS.cost}"><title>${label}: ${formatMoney(row.cost, currency)} per month</title></rect>`,
        `<text x="${LABEL_WIDTH + plotWidth + 8}" y="${y + 12}" ` +
          `class="value">${formatMoney(row.cost, currency)}/mo` +
          `${row.saved > 0 ? ` (−${formatMoney(row.saved, currency)})` : ''}</text>`,
        '</g>',
      ].join('');
    })
    .join('\n');
  return svg(
    height,
    title,
    [legend([['monthly storage cost before', CHART_COLORS.cost]], LABEL_WIDTH), bars].join('\n'),
    LABEL_WIDTH + plotWidth + VALUE_WIDTH,
  );
}

/** A line chart of stored bytes over runs (before and after each run). */
export function trendChart(points: readonly { at: string; before: number; after: number }[], title: string): string {
  const height = 200;
  const left = 80;
  const right = CHART_WIDTH - 20;
  const top = 30;
  const bottom = height - 30;
  const max = Math.max(1, ...points.flatMap((point) => [point.before, point.after]));
  const x = (index: number) =>
    points.length <= 1 ? (left + right) / 2 : left + ((right - left) * index) / (points.length - 1);
  const y = (value: number) => bottom - ((bottom - top) * value) / max;
  const line = (pick: (point: { before: number; after: number }) => number, color: string, name: string) =>
    `<polyline class="trend-${name}" fill="none" stroke="${color}" stroke-width="2" ` +
    `points="${points.map((point, index) => `${x(index).toFixed(1)},${y(pick(point)).toFixed(1)}`).join(' ')}"/>` +
    points
      .map(
        (point, index) =>
          `<circle cx="${x(index).toFixed(1)}" cy="${y(pick(point)).toFixed(1)}" r="3" ` +
          `fill="${color}"><title>${escapeHtml(point.at)}: ${formatBytes(pick(point))} ${name}</title></circle>`,
      )
      .join('');
  const first = points[0];
  const last = points[points.length - 1];
  // Runs on one day would all read `2026-11-27`: then the time of day tells them apart.
  const sameDay = new Set(points.map((point) => point.at.slice(0, 10))).size < points.length;
  const axisLabel = (at: string) => (sameDay ? `${at.slice(0, 10)} ${at.slice(11, 16)} UTC` : at.slice(0, 10));
  const axis = [
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#ccd"/>`,
    `<text x="${left - 6}" y="${top + 4}" text-anchor="end" class="value">${formatBytes(max)}</text>`,
    `<text x="${left - 6}" y="${bottom}" text-anchor="end" class="value">0</text>`,
    first ? `<text x="${left}" y="${bottom + 18}" class="value">${escapeHtml(axisLabel(first.at))}</text>` : '',
    last && points.length > 1
      ? `<text x="${right}" y="${bottom + 18}" text-anchor="end" ` +
        `class="value">${escapeHtml(axisLabel(last.at))}</text>`
      : '',
  ].join('');
  const body = [
    legend([
      ['stored at start of run', CHART_COLORS.line],
      ['after the run (dry runs: would be)', CHART_COLORS.lineAfter],
    ]),
    axis,
    line((point) => point.before, CHART_COLORS.line, 'before'),
    line((point) => point.after, CHART_COLORS.lineAfter, 'after'),
  ].join('\n');
  return svg(height, title, body);
}

/** An SVG element of the charts' width (or `width`), titled for screen readers. */
export function svg(height: number, title: string, body: string, width = CHART_WIDTH): string {
  return [
    `<svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" ` +
      `height="${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${escapeHtml(title)}</title>`,
    body,
    '</svg>',
  ].join('\n');
}

/** A row of colour keys at the top of a chart. */
export function legend(items: readonly (readonly [string, string])[], start = LABEL_WIDTH): string {
  let x = start;
  return items
    .map(([name, color]) => {
      const item =
        `<rect x="${x}" y="6" width="12" height="12" fill="${color}"/><text x="${x + 16}" y="16" ` +
        `class="legend">${escapeHtml(name)}</text>`;
      x += 30 + name.length * 7;
      return item;
    })
    .join('');
}

/** `registry/very/long/…/repository`: both ends of a long name stay readable. */
export function cutMiddle(text: string, length: number): string {
  if (text.length <= length) return text;
  const head = Math.ceil((length - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (length - 1 - head))}`;
}
