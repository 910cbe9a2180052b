/**
 * The what-if section (`report --what-if`): a table per keep value and a curve of bytes and
 * monthly cost reclaimed against keep, in Markdown and in HTML with an inline SVG.
 */
import type { WhatIfPoint, WhatIfSection } from '../report/what-if.js';
import { formatBytes } from '../report/units.js';
import { escapeHtml, escapeMarkdown, formatMoney } from './format.js';
import { CHART_COLORS, CHART_WIDTH, legend, svg } from './svg.js';

/** Repositories shown per keep value, the largest reclaim at the highest keep first. */
const REPOSITORY_ROWS = 15;

function largestRepositories(section: WhatIfSection) {
  return section.registries
    .flatMap((registry) => registry.repositories)
    .sort((a, b) => (b.points[0]?.bytes ?? 0) - (a.points[0]?.bytes ?? 0) || a.name.localeCompare(b.name))
    .slice(0, REPOSITORY_ROWS);
}

const cell = (point: WhatIfPoint | undefined, currency: string | null) =>
  point === undefined
    ? '–'
    : `${point.images} · ${formatBytes(point.bytes)}` +
      (currency === null ? '' : ` · ${formatMoney(point.monthlyCost, currency)}`);

/** The section in Markdown: totals per keep, then the repositories that would reclaim most. */
export function whatIfMarkdown(section: WhatIfSection): string[] {
  const { keeps, currency } = section;
  const out = [
    '### What-if: what each keep value would reclaim',
    '',
    `_${escapeMarkdown(section.method)}_`,
    '',
    `| keep | images | bytes | ${currency === null ? 'cost' : `cost/month (${escapeMarkdown(currency)})`} |`,
    '|---:|---:|---:|---:|',
    ...section.totals.map(
      (point) =>
        `| ${point.keep} | ${point.images} | ${formatBytes(point.bytes)} | ` +
        `${currency === null ? '–' : formatMoney(point.monthlyCost, currency)} |`,
    ),
    '',
  ];
  const repositories = largestRepositories(section);
  if (repositories.length > 0) {
    out.push(
      `Per repository (images · bytes${currency === null ? '' : ' · cost/month'}):`,
      '',
      `| Repository | ${keeps.map((keep) => `keep ${keep}`).join(' | ')} |`,
      `|---|${keeps.map(() => '---:').join('|')}|`,
      ...repositories.map(
        (repository) =>
          `| ${escapeMarkdown(`${repository.registry}/${repository.name}`)} | ` +
          `${keeps.map((_, index) => cell(repository.points[index], currency)).join(' | ')} |`,
      ),
      '',
    );
  }
  return out;
}

/** Bytes (left axis) and monthly cost (right axis) reclaimed against keep: a falling curve. */
export function whatIfCurve(points: readonly WhatIfPoint[], currency: string | null, title: string): string {
  const height = 220;
  const left = 90;
  const right = CHART_WIDTH - 90;
  const top = 34;
  const bottom = height - 34;
  const maxBytes = Math.max(1, ...points.map((point) => point.bytes));
  const maxCost = Math.max(0.0001, ...points.map((point) => point.monthlyCost));
  const maxKeep = Math.max(1, ...points.map((point) => point.keep));
  const x = (keep: number) => left + ((right - left) * keep) / maxKeep;
  const yOf = (fraction: number) => bottom - (bottom - top) * fraction;
  const line = (
    pick: (point: WhatIfPoint) => number,
    max: number,
    color: string,
    name: string,
    label: (p: WhatIfPoint) => string,
  ) =>
    // The cost line is dashed: where price is per GB it lies on the bytes line, and both must show.
    `<polyline class="what-if-${name}" fill="none" stroke="${color}" stroke-width="2"` +
    `${name === 'cost' ? ' stroke-dasharray="6 4"' : ''} points="` +
    points.map((point) => `${x(point.keep).toFixed(1)},${yOf(pick(point) / max).toFixed(1)}`).join(' ') +
    '"/>' +
    points
      .map(
        (point) =>
          `<circle cx="${x(point.keep).toFixed(1)}" cy="${yOf(pick(point) / max).toFixed(1)}" r="3.5" ` +
          `fill="${color}">` +
          `<title>keep ${point.keep}: ${escapeHtml(label(point))}</title></circle>`,
      )
      .join('');
  const axis = [
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#ccd"/>`,
    `<text x="${left - 6}" y="${top + 4}" text-anchor="end" class="value">${formatBytes(maxBytes)}</text>`,
    `<text x="${left - 6}" y="${bottom}" text-anchor="end" class="value">0</text>`,
    currency === null
      ? ''
      : `<text x="${right + 6}" y="${top + 4}" class="value">${escapeHtml(formatMoney(maxCost, currency))}/mo</text>`,
    ...points.map(
      (point) =>
        `<text x="${x(point.keep).toFixed(1)}" y="${bottom + 16}" text-anchor="middle" ` +
        `class="value">${point.keep}</text>`,
    ),
    `<text x="${(left + right) / 2}" y="${bottom + 30}" text-anchor="middle" class="value">keep</text>`,
  ].join('');
  const lines = [
    line(
      (p) => p.bytes,
      maxBytes,
      CHART_COLORS.line,
      'bytes',
      (p) => `${formatBytes(p.bytes)}, ${p.images} images`,
    ),
    currency === null
      ? ''
      : line(
          (p) => p.monthlyCost,
          maxCost,
          CHART_COLORS.cost,
          'cost',
          (p) => `${formatMoney(p.monthlyCost, currency)}/month`,
        ),
  ].join('');
  const keys: Array<readonly [string, string]> = [['bytes reclaimed', CHART_COLORS.line]];
  if (currency !== null) keys.push(['monthly cost saved', CHART_COLORS.cost]);
  return svg(height, title, [legend(keys), axis, lines].join('\n'));
}

/** The section in HTML: the curve of the totals, then the same tables as Markdown. */
export function whatIfHtml(section: WhatIfSection): string {
  const { keeps, currency } = section;
  const head = (cells: readonly string[]) =>
    `<tr>${cells.map((c, i) => `<th${i > 0 ? ' class="n"' : ''}>${c}</th>`).join('')}</tr>`;
  const row = (cells: readonly string[]) =>
    `<tr>${cells.map((c, i) => `<td${i > 0 ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`;
  const totals = [
    '<table>',
    head(['keep', 'images', 'bytes', currency === null ? 'cost' : `cost/month (${escapeHtml(currency)})`]),
    ...section.totals.map((point) =>
      row([
        String(point.keep),
        String(point.images),
        formatBytes(point.bytes),
        currency === null ? '–' : escapeHtml(formatMoney(point.monthlyCost, currency)),
      ]),
    ),
    '</table>',
  ];
  const repositories = largestRepositories(section);
  const perRepository =
    repositories.length === 0
      ? []
      : [
          `<p class="sub">Per repository (images · bytes${currency === null ? '' : ' · cost/month'}):</p>`,
          '<table>',
          head(['Repository', ...keeps.map((keep) => `keep ${keep}`)]),
          ...repositories.map((repository) =>
            row([
              escapeHtml(`${repository.registry}/${repository.name}`),
              ...keeps.map((_, index) => escapeHtml(cell(repository.points[index], currency))),
            ]),
          ),
          '</table>',
        ];
  return [
    '<section id="what-if">',
    '<h2>What-if: what each keep value would reclaim</h2>',
    `<p class="sub">${escapeHtml(section.method)}</p>`,
    `<div class="chart" id="chart-what-if">${whatIfCurve(section.totals, currency, 'Reclaimed by keep value')}</div>`,
    ...totals,
    ...perRepository,
    '</section>',
  ].join('\n');
}
