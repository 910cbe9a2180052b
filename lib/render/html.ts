/**
 * The report as one self-contained HTML file: inline CSS and SVG, no script, no external
 * resource, nothing fetched at view time. Every name from a registry is escaped.
 */
import type { Report } from '../report/types.js';
import { formatBytes } from '../report/units.js';
import { escapeHtml as h, formatMoney, formatPercent, formatTime, shortDigest } from './format.js';
import { bytesBarChart, costBarChart, trendChart } from './svg.js';
import { runNotes } from './run-notes.js';
import { whatIfHtml } from './what-if.js';
import { reportView, type RenderOptions } from './view.js';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2933;margin:0;background:#f5f7fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#52606d;margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px}
.card{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:12px 14px}
.card .k{color:#52606d;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:22px;font-weight:600;margin-top:2px}.card .d{color:#52606d;font-size:12px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #e4e7eb;border-radius:8px;overflow:hidden}
th,td{padding:6px 10px;border-bottom:1px solid #eef0f3;text-align:left;vertical-align:top}
th{background:#f0f4f8;font-weight:600;font-size:12px;color:#3e4c59}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.chart{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:8px;overflow-x:auto}
.chart svg .label,.chart svg .value,.chart svg .legend{fill:#3e4c59}
.est{color:#b44d12;font-weight:600}.warn{color:#b42318}
code{font-size:12px;background:#f0f4f8;padding:1px 4px;border-radius:3px}
ul.notes li{margin:2px 0}footer{color:#7b8794;font-size:12px;margin-top:28px}
`;

/** Renders a report (with its storage and cost sections) as a self-contained HTML page. */
export function renderHtml(report: Report, options: RenderOptions = {}): string {
  const view = reportView(report, options);
  const currency = view.currency;
  const t = view.totals;
  const approx = (accuracy: string) => (accuracy === 'exact' ? '' : '<span class="est" title="estimate">≈</span>');
  const parts: string[] = [];

  parts.push(`<h1>${h(view.title)}</h1>`, `<p class="sub">${h(view.subtitle)}</p>`);
  const cards = [
    card(
      'Stored',
      `${formatBytes(t.before)}${approx(t.accuracy)}`,
      `${t.repositories} repositories, ${t.images} images`,
    ),
    card(
      capitalize(view.reclaimVerb),
      formatBytes(t.reclaimed),
      `${formatPercent(t.reclaimed, t.before)} of stored; ${t.deleted} ` +
        `images${t.failed > 0 ? `, <span class="warn">${t.failed} failed</span>` : ''}`,
    ),
    card('After', formatBytes(t.after), `untagged-only: ${formatBytes(t.untagged)}`),
  ];
  if (view.cost) {
    cards.push(
      card(
        'Storage cost / month',
        `${h(formatMoney(view.cost.before, currency))} → ${h(formatMoney(view.cost.after, currency))}`,
        `saves ${h(formatMoney(view.cost.saved, currency))}/month` +
          (view.cost.fixedMonthly > 0 ? `; fixed fees ${h(formatMoney(view.cost.fixedMonthly, currency))}` : ''),
      ),
    );
  }
  parts.push(`<section class="cards">${cards.join('')}</section>`);
  parts.push(
    `<p class="sub">${
      t.accuracy === 'exact'
        ? 'All figures are exact: every blob was known.'
        : 'Figures marked ≈ are estimates; see the notes.'
    }</p>`,
  );
  const said = runNotes(report);
  if (said.warnings.length > 0)
    parts.push('<h2>Warnings</h2><ul class="notes">', ...said.warnings.map((line) => `<li>${h(line)}</li>`), '</ul>');

  if (view.repositories.length > 0) {
    parts.push(
      `<h2>Bytes before and after, per repository</h2><div class="chart" id="chart-bytes">${bytesBarChart(
        view.repositories.map((repository) => ({
          label: `${repository.registry}/${repository.name}`,
          before: repository.attributed,
          after: repository.after,
        })),
        'Bytes before and after per repository',
      )}</div>`,
    );
    const byCost = [...view.repositories]
      .filter((repository) => repository.costBefore !== null)
      .sort((a, b) => (b.costBefore ?? 0) - (a.costBefore ?? 0))
      .slice(0, 10);
    // A chart of zeros (costs under 1/10,000 of a unit round to 0) says nothing.
    if (byCost.some((repository) => (repository.costBefore ?? 0) > 0)) {
      parts.push(
        `<h2>Top repositories by monthly storage cost</h2><div class="chart" id="chart-cost">${costBarChart(
          byCost.map((repository) => ({
            label: `${repository.registry}/${repository.name}`,
            cost: repository.costBefore ?? 0,
            saved: repository.costSaved ?? 0,
          })),
          currency,
          'Top repositories by monthly storage cost',
        )}</div>`,
      );
    }
  }

  if (view.trend && view.trend.points.length > 0) {
    const trend = view.trend;
    const change =
      trend.bytesChange === null
        ? ''
        : `<p>Stored bytes changed by ` +
          `${trend.bytesChange >= 0 ? '+' : ''}${formatBytes(trend.bytesChange)}` +
          (trend.costChange !== null
            ? `, storage cost by ${trend.costChange >= 0 ? '+' : ''}` +
              `${h(formatMoney(trend.costChange, trend.currency))}/month`
            : '') +
          ` since ${h(formatTime(trend.points[0]?.at ?? null))}.</p>`;
    parts.push(
      `<h2>Trend over the last ` +
        `${trend.points.length === 1 ? 'run' : `${trend.points.length} runs`}</h2>${change}<div class="chart" ` +
        `id="chart-trend">${trendChart(
          trend.points.map((point) => ({ at: point.at, before: point.bytesBefore, after: point.bytesAfter })),
          'Stored bytes over recorded runs',
        )}</div>`,
    );
  }

  parts.push(
    '<h2>Registries</h2>',
    table(
      [
        'Registry',
        'Provider',
        'Blobs stored once per',
        'Stored',
        'After',
        capitalize(view.reclaimVerb),
        'Untagged',
        'Cost/month',
        'Saved/month',
      ],
      [false, false, false, true, true, true, true, true, true],
      view.registries.map((registry) => [
        `${h(registry.name)}${registry.error ? ' <span class="warn">⚠ failed</span>' : ''}`,
        h(registry.provider),
        h(registry.dedupScope),
        `${formatBytes(registry.before)}${approx(registry.accuracy)}`,
        formatBytes(registry.after),
        formatBytes(registry.reclaimed),
        formatBytes(registry.untagged),
        h(formatMoney(registry.cost?.monthly.before, currency)),
        h(formatMoney(registry.cost?.monthly.saved, currency)),
      ]),
    ),
  );

  const cut =
    view.repositoryCount > view.repositories.length
      ? ` (largest ${view.repositories.length} of ${view.repositoryCount})`
      : '';
  parts.push(
    `<h2>Largest repositories${cut}</h2>`,
    table(
      [
        'Repository',
        'Images',
        view.deleteHeading,
        'Failed',
        'Stored',
        'Share',
        capitalize(view.reclaimVerb),
        'Untagged',
        'Cost/month',
        'Saved/month',
      ],
      [false, true, true, true, true, true, true, true, true, true],
      view.repositories.map((repository) => [
        `${h(repository.registry)}/<b>${h(repository.name)}</b>`,
        String(repository.images.before),
        String(repository.images.deleted),
        repository.images.failed > 0 ? `<span class="warn">${repository.images.failed}</span>` : '0',
        `${formatBytes(repository.bytes)}${approx(repository.accuracy)}`,
        formatBytes(repository.attributed),
        formatBytes(repository.reclaimed),
        formatBytes(repository.untagged),
        h(formatMoney(repository.costBefore, currency)),
        h(formatMoney(repository.costSaved, currency)),
      ]),
    ),
    '<p class="sub">Stored: unique bytes the repository references. Share: its part of the registry, a blob used by ' +
      'k repositories counting 1/k in each.</p>',
  );

  if (view.oldest.length > 0) {
    parts.push(
      '<h2>Oldest images</h2>',
      table(
        ['Repository', 'Tags', 'Digest', 'Pushed', 'Size', 'This run'],
        [false, false, false, false, true, false],
        view.oldest.map((image) => [
          `${h(image.registry)}/<b>${h(image.repository)}</b>`,
          image.tags.length > 0 ? h(image.tags.join(', ')) : '<i>untagged</i>',
          `<code>${h(shortDigest(image.digest))}</code>`,
          h(formatTime(image.pushedAt)),
          formatBytes(image.bytes),
          image.fate ? `<b class="warn">${h(image.fate)}</b>` : 'kept',
        ]),
      ),
    );
  }

  if (report.whatIf) parts.push(whatIfHtml(report.whatIf));
  if (view.prices.length > 0) {
    parts.push('<h2>Prices used</h2><ul class="notes">', ...view.prices.map((line) => `<li>${h(line)}</li>`), '</ul>');
    if (view.costMethod) parts.push(`<p class="sub">${h(view.costMethod)}</p>`);
  }
  if (said.journal.length > 0) {
    parts.push(
      '<h2>Finished from the journal</h2><ul class="notes">',
      ...said.journal.map((line) => `<li>${h(line)}</li>`),
      '</ul>',
    );
  }
  if (view.notes.length > 0)
    parts.push('<h2>Notes</h2><ul class="notes">', ...view.notes.map((note) => `<li>${h(note)}</li>`), '</ul>');
  parts.push(
    `<footer>Generated by regprune · report version ${report.version} · started ` +
      `${h(formatTime(report.startedAt))}</footer>`,
  );

  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No network at view time: forbid every fetch, allow only the inline style.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src ` +
      `data:">`,
    `<title>${h(view.title)}</title><style>${STYLE}</style></head>`,
    `<body><main>${parts.join('\n')}</main></body></html>`,
    '',
  ].join('\n');
}

/** A summary card; `valueHtml` and `detailHtml` are already escaped. */
function card(label: string, valueHtml: string, detailHtml: string): string {
  return (
    `<div class="card"><div class="k">${h(label)}</div><div class="v">${valueHtml}</div><div ` +
    `class="d">${detailHtml}</div></div>`
  );
}

function table(headers: readonly string[], numeric: readonly boolean[], rows: readonly (readonly string[])[]): string {
  const head = headers.map((header, index) => `<th${numeric[index] ? ' class="n"' : ''}>${h(header)}</th>`).join('');
  const body = rows
    .map(
      (row) => `<tr>${row.map((cell, index) => `<td${numeric[index] ? ' class="n"' : ''}>${cell}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
