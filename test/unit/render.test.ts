import { describe, expect, it } from 'vitest';
import { costSection } from '../../lib/cost/index.js';
import type { HistoryEntry } from '../../lib/history/index.js';
import { historyEntryOf } from '../../lib/history/index.js';
import type { BlobRef, Image, Inventory } from '../../lib/model.js';
import { escapeMarkdown, formatMoney, renderHtml, renderMarkdown } from '../../lib/render/index.js';
import { formatBytes } from '../../lib/report/units.js';
import type { Report, RepositoryReport } from '../../lib/report/types.js';
import { accountRegistry, storageSection } from '../../lib/storage/index.js';

const MIB = 1024 * 1024;
const EVIL = '<script>alert("x")</script>|`rm`';

function image(digest: string, tags: string[], blobs: BlobRef[], pushedAtMs = Date.UTC(2026, 0, 1)): Image {
  return {
    digest,
    tags,
    kind: 'image',
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    pushedAtMs,
    timeSource: 'config',
    lastPulledAtMs: null,
    sizeBytes: null,
    blobs,
    children: [],
    subject: null,
    locked: false,
  };
}

function inventory(registry: string, repository: string, images: Image[]): Inventory {
  return { registry, repository, images, warnings: [] };
}

function repositoryReport(name: string, before: number, deleted: string[]): RepositoryReport {
  return {
    name,
    images: { before, kept: before - deleted.length, deleted: deleted.length, failed: 0, pending: 0 },
    bytes: { before: 0, reclaimed: 0 },
    kept: [],
    deleted: deleted.map((digest) => ({ digest, tags: [], action: 'delete-manifest' as const })),
    failed: [],
    pending: [],
    warnings: [],
  };
}

/** Two registries, three repositories, one with a hostile name. */
function sampleReport(): Report {
  const base: BlobRef = { digest: 'sha256:base', sizeBytes: 80 * MIB };
  const web = inventory('local', 'web', [
    image('sha256:w1', ['1'], [base, { digest: 'sha256:w1l', sizeBytes: 10 * MIB }], Date.UTC(2025, 0, 1)),
    image('sha256:w2', ['2', 'latest'], [base, { digest: 'sha256:w2l', sizeBytes: 12 * MIB }]),
  ]);
  const evil = inventory('local', EVIL, [
    image('sha256:e1', ['x'], [base, { digest: 'sha256:e1l', sizeBytes: 5 * MIB }]),
  ]);
  const api = inventory('prod', 'api', [image('sha256:a1', ['v1'], [{ digest: 'sha256:a1l', sizeBytes: 40 * MIB }])]);
  const local = accountRegistry({
    registry: 'local',
    provider: 'oci',
    // As if its listing saw every manifest: the figures here are exact (see "cannot list untagged" below).
    listsUntagged: true,
    repositories: [
      { inventory: web, deleted: new Set(['sha256:w1']) },
      { inventory: evil, deleted: new Set() },
    ],
  });
  const prod = accountRegistry({
    registry: 'prod',
    provider: 'ecr',
    repositories: [{ inventory: api, deleted: new Set() }],
  });
  const storage = storageSection([local, prod]);
  return {
    version: 1,
    dryRun: true,
    startedAt: '2026-11-23T10:00:00.000Z',
    finishedAt: '2026-11-23T10:00:05.000Z',
    complete: true,
    registries: [
      {
        name: 'local',
        provider: 'oci',
        repositories: [repositoryReport('web', 2, ['sha256:w1']), repositoryReport(EVIL, 1, [])],
        apiCalls: 9,
      },
      { name: 'prod', provider: 'ecr', repositories: [repositoryReport('api', 1, [])], apiCalls: 3 },
    ],
    totals: {
      repositories: 3,
      imagesBefore: 4,
      kept: 3,
      deleted: 1,
      failed: 0,
      pending: 0,
      bytesBefore: 0,
      bytesReclaimed: 0,
      apiCalls: 12,
    },
    storage,
    cost: costSection(storage.registries),
  };
}

describe('a registry that cannot list untagged manifests', () => {
  const report = (): Report => {
    const sample = sampleReport();
    const web = inventory('local', 'web', [image('sha256:w2', ['v2'], [{ digest: 'sha256:b', sizeBytes: MIB }])]);
    const local = accountRegistry({
      registry: 'local',
      provider: 'oci',
      repositories: [{ inventory: web, deleted: new Set() }],
    });
    return { ...sample, storage: storageSection([local]) };
  };

  it('is never called exact, and its note names garbage-collect --delete-untagged and the 2.8 caveat', () => {
    const markdown = renderMarkdown(report());
    const html = renderHtml(report());

    expect(markdown).toContain('- **Figures:** include estimates (≈), see notes');
    expect(markdown).toMatch(/Untagged:\*\* 0 B ≈/);
    expect(markdown).toContain('registry garbage-collect --delete-untagged CONFIG');
    expect(markdown).toMatch(/distribution\\?#3178/);
    expect(html).not.toContain('All figures are exact');
    expect(html).toContain('untagged manifests that no tag reaches are not seen');
  });
});

describe('Markdown report', () => {
  it('shows totals, one row per registry and per repository, with what a dry run would reclaim', () => {
    const markdown = renderMarkdown(sampleReport());

    expect(markdown).toContain('- **Stored:** 147 MiB in 3 repositories (4 images)');
    expect(markdown).toContain('- **Would reclaim:** 10.0 MiB');
    expect(markdown).toMatch(/^\| local \| oci \| 107 MiB \| 97\.0 MiB \| 10\.0 MiB \|/m);
    expect(markdown).toMatch(/^\| local\/web \| 2 \| 1 \| 0 \| 102 MiB \| 62\.0 MiB \| 10\.0 MiB \|/m);
    expect(markdown).toContain('prod (ecr): $0.10 per GB-month; source: https://aws.amazon.com/ecr/pricing/');
  });

  it('escapes repository names so they cannot break the table or inject HTML', () => {
    const markdown = renderMarkdown(sampleReport());

    expect(markdown).not.toContain('<script>');
    expect(markdown).toContain(`| ${escapeMarkdown(`local/${EVIL}`)} |`);
    expect(escapeMarkdown('a|b')).toBe('a\\|b');
  });

  it('says "reclaimed" after a real run and reminds that registry:2 frees disk only after garbage-collect', () => {
    const markdown = renderMarkdown({ ...sampleReport(), dryRun: false });

    expect(markdown).toContain('- **Reclaimed:** 10.0 MiB');
    expect(markdown).toContain('| Repository | Images | Deleted | Failed |');
    expect(markdown).toMatch(/garbage-collect/);
  });

  it('labels a read-only report as such', () => {
    const markdown = renderMarkdown({ ...sampleReport(), dryRun: false }, { command: 'report' });

    expect(markdown).toContain('read-only: nothing was deleted');
    expect(markdown).toContain('| Repository | Images | Would delete | Failed |');
  });

  it('shows the trend over recorded runs', () => {
    const report = sampleReport();
    const earlier: HistoryEntry = {
      ...historyEntryOf(report),
      at: '2026-11-01T00:00:00.000Z',
      totals: { ...historyEntryOf(report).totals, bytesBefore: 100 * MIB },
    };

    const markdown = renderMarkdown(report, { history: [earlier, historyEntryOf(report)] });

    expect(markdown).toContain('### Trend (last 2 runs)');
    expect(markdown).toContain('Stored bytes changed by +47.0 MiB');
  });
});

describe('HTML report', () => {
  it('is self-contained: no http(s) URL in any src or href, no script', () => {
    const html = renderHtml(sampleReport());

    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toContain("default-src 'none'");
  });

  it('escapes every name', () => {
    const html = renderHtml(sampleReport());

    expect(html).not.toContain(EVIL);
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;|`rm`');
  });

  it('draws an inline SVG with one before/after bar pair per repository', () => {
    const html = renderHtml(sampleReport());

    const chart = html.slice(
      html.indexOf('<div class="chart" id="chart-bytes">'),
      html.indexOf('</svg>', html.indexOf('id="chart-bytes"')),
    );
    expect(chart).toContain('<svg');
    expect(chart.match(/<g class="bar-pair"/g)).toHaveLength(3);
    expect(chart.match(/<rect class="before"/g)).toHaveLength(3);
    expect(chart.match(/<rect class="after"/g)).toHaveLength(3);
    expect(html).toContain('id="chart-cost"');
  });

  it('draws the trend when history is given, and not otherwise', () => {
    const report = sampleReport();

    expect(renderHtml(report, { history: [historyEntryOf(report)] })).toContain('id="chart-trend"');
    expect(renderHtml(report)).not.toContain('id="chart-trend"');
  });

  it('prints the prices it used', () => {
    const html = renderHtml(sampleReport());

    expect(html).toContain('local (oci): $0.08 per GB-month; source: block storage stand-in');
  });
});

/** A real run that warned, lost a protected tag, and finished an interrupted run's journal. */
function reportWithWarningsAndJournal(): Report {
  const report = { ...sampleReport(), dryRun: false };
  const [first, ...others] = report.registries;
  const [web, ...rest] = first!.repositories;
  const lostTags = [{ tag: 'latest', digest: 'sha256:w2', error: 'protected tag "latest" lost a move <b>' }];
  return {
    ...report,
    warnings: ['registry "prod" skipped: another run holds its lock'],
    registries: [
      {
        ...first!,
        repositories: [{ ...web!, lostTags }, ...rest],
        journal: [
          {
            repository: 'web',
            finished: [{ digest: 'sha256:c1', tags: [], action: 'delete-manifest' }],
            failed: [{ digest: 'sha256:c2', tags: [], error: '500' }],
            warnings: ['sha256:c3 is referenced by a kept tag again: struck off'],
          },
        ],
      },
      ...others,
    ],
  };
}

describe('warnings and the journal', () => {
  it('Markdown shows the run-wide warnings, lost tags and what the run finished from the journal', () => {
    const markdown = renderMarkdown(reportWithWarningsAndJournal());

    expect(markdown).toContain('### Warnings');
    expect(markdown).toContain('registry "prod" skipped: another run holds its lock');
    expect(markdown).toContain('local/web: protected tag "latest" lost a move');
    expect(markdown).toContain('### Finished from the journal');
    expect(markdown).toContain('local/web: finished 1 deletion(s) an interrupted run left; 1 still on record');
    expect(markdown).toContain('sha256:c3 is referenced by a kept tag again');
  });

  it('HTML shows them too, escaped', () => {
    const html = renderHtml(reportWithWarningsAndJournal());

    expect(html).toContain('<h2>Warnings</h2>');
    expect(html).toContain('lost a move &#60;b&#62;');
    expect(html).not.toContain('lost a move <b>');
    expect(html).toContain('<h2>Finished from the journal</h2>');
    expect(html).toContain('finished 1 deletion(s) an interrupted run left');
  });

  it('leaves both sections out of a report without them', () => {
    const markdown = renderMarkdown(sampleReport());

    expect(markdown).not.toContain('### Warnings');
    expect(markdown).not.toContain('### Finished from the journal');
  });
});

describe('formatting', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [150 * MIB, '150 MiB'],
    [-2 * MIB, '-2.0 MiB'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('keeps sub-cent amounts visible and labels non-dollar currencies', () => {
    expect(formatMoney(0.0042, 'USD')).toBe('$0.0042');
    expect(formatMoney(12.5, 'EUR')).toBe('12.50 EUR');
    expect(formatMoney(null, 'USD')).toBe('–');
  });
});

describe('reports without the storage section', () => {
  it('renders an older report v1 from its own byte figures, marked as estimates', () => {
    const { storage: _storage, cost: _cost, ...older } = sampleReport();
    const withBytes: Report = {
      ...older,
      registries: older.registries.map((registry) => ({
        ...registry,
        repositories: registry.repositories.map((repository) => ({
          ...repository,
          bytes: { before: 10 * MIB, reclaimed: MIB },
        })),
      })),
      totals: { ...older.totals, bytesBefore: 30 * MIB, bytesReclaimed: 3 * MIB },
    };

    const markdown = renderMarkdown(withBytes);
    const html = renderHtml({
      ...withBytes,
      registries: [{ ...withBytes.registries[0]!, error: 'registry "local" unreachable' }, withBytes.registries[1]!],
    });

    expect(markdown).toContain('- **Stored:** 30.0 MiB ≈');
    expect(markdown).not.toContain('Storage cost');
    expect(html).toContain('⚠ failed');
    expect(html).toContain('registry &#34;local&#34; unreachable');
  });
});
