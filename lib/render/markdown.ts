/** The report as Markdown: fits a CI job summary ($GITHUB_STEP_SUMMARY) or a ticket. */
import type { Report } from '../report/types.js';
import { formatBytes } from '../report/units.js';
import {
  escapeMarkdown as md,
  escapeMarkdownProse as mdProse,
  formatMoney,
  formatPercent,
  formatTime,
  shortDigest,
} from './format.js';
import { runNotes } from './run-notes.js';
import { reportView, type RenderOptions } from './view.js';
import { whatIfMarkdown } from './what-if.js';

/** Renders a report (with its storage and cost sections) as GitHub-flavoured Markdown. */
export function renderMarkdown(report: Report, options: RenderOptions = {}): string {
  const view = reportView(report, options);
  const currency = view.currency;
  const out: string[] = [];
  const estimate = (accuracy: string) => (accuracy === 'exact' ? '' : ' ≈');

  out.push(`## ${md(view.title)}`, '', `_${md(view.subtitle)}_`, '');
  const t = view.totals;
  out.push(
    `- **Stored:** ${formatBytes(t.before)}${estimate(t.accuracy)} in ${t.repositories} repositories (${t.images} ` +
      `images)`,
    `- **${capitalize(view.reclaimVerb)}:** ${formatBytes(t.reclaimed)}${estimate(t.accuracy)} ` +
      `(${formatPercent(t.reclaimed, t.before)}), leaving ${formatBytes(t.after)}; ${t.deleted} images ` +
      `${view.reclaimVerb === 'reclaimed' ? 'deleted' : 'to delete'}${t.failed > 0 ? `, **${t.failed} failed**` : ''}`,
    `- **Untagged:** ${formatBytes(t.untagged)}${estimate(t.accuracy)} held only by untagged manifests`,
  );
  if (view.cost) {
    out.push(
      `- **Storage cost:** ${formatMoney(view.cost.before, currency)}/month → ` +
        `${formatMoney(view.cost.after, currency)}/month (saves ` +
        `${formatMoney(view.cost.saved, currency)}/month)` +
        (view.cost.fixedMonthly > 0
          ? `; fixed registry fees ${formatMoney(view.cost.fixedMonthly, currency)}/month`
          : ''),
    );
  }
  out.push(
    `- **Figures:** ${t.accuracy === 'exact' ? 'exact (every blob known)' : 'include estimates (≈), see notes'}`,
    '',
  );
  const said = runNotes(report);
  if (said.warnings.length > 0) out.push('### Warnings', '', ...said.warnings.map((line) => `- ${md(line)}`), '');

  out.push(
    '### Registries',
    '',
    '| Registry | Provider | Stored | After | ' +
      capitalize(view.reclaimVerb) +
      ' | Untagged | Cost/month | Saved/month |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const registry of view.registries) {
    out.push(
      `| ${md(registry.name)}${registry.error ? ' ⚠' : ''} | ${registry.provider} | ` +
        `${formatBytes(registry.before)}${estimate(registry.accuracy)} | ${formatBytes(registry.after)} | ` +
        `${formatBytes(registry.reclaimed)} | ${formatBytes(registry.untagged)} | ` +
        `${formatMoney(registry.cost?.monthly.before, currency)} | ` +
        `${formatMoney(registry.cost?.monthly.saved, currency)} |`,
    );
  }
  out.push('');

  const cut =
    view.repositoryCount > view.repositories.length
      ? ` (largest ${view.repositories.length} of ${view.repositoryCount})`
      : '';
  out.push(
    `### Repositories${cut}`,
    '',
    `| Repository | Images | ${view.deleteHeading} | Failed | Stored | Share | ${capitalize(view.reclaimVerb)} | ` +
      `Cost/month | Saved/month |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const repository of view.repositories) {
    out.push(
      `| ${md(`${repository.registry}/${repository.name}`)} | ${repository.images.before} | ` +
        `${repository.images.deleted} | ${repository.images.failed} | ` +
        `${formatBytes(repository.bytes)}${estimate(repository.accuracy)} | ${formatBytes(repository.attributed)} ` +
        `| ${formatBytes(repository.reclaimed)} | ${formatMoney(repository.costBefore, currency)} | ` +
        `${formatMoney(repository.costSaved, currency)} |`,
    );
  }
  out.push(
    '',
    '_Stored: unique bytes the repository references. Share: its part of the registry, a blob used by k repositories ' +
      'counting 1/k in each._',
    '',
  );

  if (view.oldest.length > 0) {
    out.push(
      '### Oldest images',
      '',
      '| Repository | Tags | Digest | Pushed | Size | This run |',
      '|---|---|---|---|---:|---|',
    );
    for (const image of view.oldest) {
      const tags = image.tags.length > 0 ? image.tags.join(', ') : '(untagged)';
      out.push(
        `| ${md(`${image.registry}/${image.repository}`)} | ${md(tags)} | \`${shortDigest(image.digest)}\` | ` +
          `${formatTime(image.pushedAt)} | ${formatBytes(image.bytes)} | ` +
          `${image.fate ? `**${image.fate}**` : 'kept'} |`,
      );
    }
    out.push('');
  }

  if (view.trend && view.trend.points.length > 0) {
    const trend = view.trend;
    out.push(`### Trend (last ${trend.points.length === 1 ? 'run' : `${trend.points.length} runs`})`, '');
    if (trend.bytesChange !== null) {
      out.push(
        `Stored bytes changed by ` +
          `${trend.bytesChange >= 0 ? '+' : ''}${formatBytes(trend.bytesChange)}` +
          (trend.costChange !== null
            ? `, storage cost by ${trend.costChange >= 0 ? '+' : ''}` +
              `${formatMoney(trend.costChange, trend.currency)}/month`
            : '') +
          ` since ${formatTime(trend.points[0]?.at ?? null)}.`,
        '',
      );
    }
    out.push('| Run | Kind | Stored | After | Cost/month |', '|---|---|---:|---:|---:|');
    for (const point of trend.points) {
      out.push(
        `| ${formatTime(point.at)} | ${point.dryRun ? 'dry run' : 'prune'} | ${formatBytes(point.bytesBefore)} | ` +
          `${formatBytes(point.bytesAfter)} | ${formatMoney(point.costBefore, trend.currency)} |`,
      );
    }
    out.push('');
  }

  if (report.whatIf) out.push(...whatIfMarkdown(report.whatIf));
  if (view.prices.length > 0) {
    out.push('### Prices used', '', ...view.prices.map((line) => `- ${mdProse(line)}`));
    if (view.costMethod) out.push('', `_${mdProse(view.costMethod)}_`);
    out.push('');
  }
  if (said.journal.length > 0) {
    out.push('### Finished from the journal', '', ...said.journal.map((line) => `- ${md(line)}`), '');
  }
  if (view.notes.length > 0) {
    out.push('### Notes', '', ...view.notes.map((note) => `- ${mdProse(note)}`), '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
