/** What a run tells a progress display as it goes (the CLI's bars and periodic lines; lib/cli/progress.ts). */
import type { RepositoryReport } from '../report/types.js';

/** Every method is optional to call sites' taste: a host without a display passes none. */
export interface RunProgress {
  /** A registry's repositories are listed: `repositories` match a rule (and --repository). */
  matched(registry: string, repositories: number): void;
  /** A repository is listed and planned: `images` listed, `deletions` planned. */
  planned(registry: string, repository: string, images: number, deletions: number): void;
  /** A repository is done: its report. */
  finished(registry: string, repository: RepositoryReport): void;
}
