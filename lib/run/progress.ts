/** How far a run has come, as prune() reports it to a listener (the async run's status record). */

export type RunProgressEvent =
  /** A registry's matching repositories are known. */
  | { readonly kind: 'registry'; readonly registry: string; readonly repositories: number }
  /** One repository is done: what it deleted, and what its plan meant to delete. */
  | {
      readonly kind: 'repository';
      readonly registry: string;
      readonly repository: string;
      readonly deleted: number;
      readonly planned: number;
    };

/** Told of each step; must not throw (a failing listener must never fail a run). */
export type RunProgressListener = (event: RunProgressEvent) => void;
