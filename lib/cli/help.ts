/** Help texts, one per command. */

export type Command = 'plan' | 'prune' | 'report' | 'validate' | 'schema';

export const COMMANDS: readonly Command[] = ['plan', 'prune', 'report', 'validate', 'schema'];

const TOP = `regprune: keep container registries lean (ACR, ECR, any OCI registry)

Usage:
  regprune plan     --config FILE [--json] [--repository GLOB] [--registry NAME] [--state DIR] [--no-cache]
  regprune prune    --config FILE [--dry-run|--no-dry-run] [--json] [--report FILE]
                    [--format json|markdown|html] [--history FILE] [--state DIR]
                    [--repository GLOB] [--registry NAME]
  regprune report   --config FILE [--json|--format json|markdown|html] [--report FILE]
                    [--history FILE] [--state DIR] [--repository GLOB] [--registry NAME]
  regprune validate --config FILE
  regprune schema

Commands:
  plan      Show what would be kept and deleted, and why. Never deletes.
  prune     Delete what the config's rules say (a dry run unless the config or --no-dry-run says otherwise).
  report    Storage and cost of the registries, and what the rules would reclaim. Never deletes.
  validate  Check a config file; calls no registry.
  schema    Print the JSON Schema of the config file.

Options:
  -h, --help     Help (also per command: regprune prune --help)
  --version      Print the version

Exit codes: 0 done; 1 something failed at run time (unreachable registry, auth, a failed deletion);
2 bad usage or bad config (and then no registry was called).
`;

const SCOPE = `  --repository GLOB  Only repositories matching this glob or /regex/ (and a config rule)
  --registry NAME    Only this configured registry (repeatable)`;

const FORMAT = `  --format FORMAT    json (report v1 with storage and cost), markdown or html (one self-contained
                     file with charts); default: markdown on stdout, or the --report file's extension
  --history FILE     Append this run's summary to FILE (JSON Lines) instead of the state store,
                     and show the trend of bytes and cost over the recorded runs
  --state DIR        Where regprune keeps its state (run lock, run history): a directory,
                     s3://BUCKET or https://ACCOUNT.blob.core.windows.net/CONTAINER; default
                     $REGPRUNE_STATE, else the functions' store when $REGPRUNE_STATE_BUCKET or
                     $AzureWebJobsStorage is set, else $XDG_CACHE_HOME/regprune, else
                     ~/.cache/regprune
  --no-cache         Read every manifest and config from the registry, not from the inventory
                     cache the state store keeps (it holds only what never changes for a digest)`;

const TEXTS: Record<Command, string> = {
  plan: `Usage: regprune plan --config FILE [--json] [--repository GLOB] [--registry NAME]

Lists every repository a config rule matches, decides what to keep (with the reason) and what a
prune would delete, and prints it. Never deletes, whatever the config says.

  -c, --config FILE  Config file (YAML or JSON)
  --json             Print only the JSON report (version 1) on stdout
  --state DIR        Where the inventory cache (and the journal) live; as for prune
  --no-cache         Read every manifest and config from the registry, not the inventory cache
${SCOPE}
  -h, --help         This help
`,
  prune: `Usage: regprune prune --config FILE [--dry-run|--no-dry-run] [--json] [--report FILE]
                      [--repository GLOB] [--registry NAME]

Deletes what the config's rules say. Just before deleting, kept tags and tags pushed since the
listing are resolved again; a digest they point at is not deleted. Without --dry-run or
--no-dry-run, the config's dryRun decides (default true: nothing is deleted).

  -c, --config FILE  Config file (YAML or JSON)
  --dry-run          Report what would be deleted; delete nothing
  --no-dry-run       Delete, even if the config says dryRun: true
  --json             Print only the JSON report (version 1) on stdout
  --report FILE      Also write the report to FILE (JSON, or by extension: .md Markdown, .html HTML)
${FORMAT}
${SCOPE}
  -h, --help         This help
`,
  report: `Usage: regprune report --config FILE [--json|--format json|markdown|html] [--report FILE]
                       [--history FILE] [--repository GLOB] [--registry NAME]

Lists every repository of the configured registries (read permissions only), counts their unique
blob bytes and monthly storage cost, and shows the largest repositories, the oldest images,
untagged bytes and what the configured rules would reclaim. Never deletes, whatever the config says.

  -c, --config FILE  Config file (YAML or JSON); its pricing: section sets the prices
  --json             Same as --format json
  --report FILE      Write the report to FILE instead of stdout (format by --format or extension)
${FORMAT}
${SCOPE}
  -h, --help         This help
`,
  validate: `Usage: regprune validate --config FILE

Checks the config file and prints "ok" or one line per problem. Calls no registry.

  -c, --config FILE  Config file (YAML or JSON)
  -h, --help         This help
`,
  schema: `Usage: regprune schema

Prints the JSON Schema of the config file (generated from the validator regprune uses).

  -h, --help  This help
`,
};

/** The help text of a command, or the top-level help. */
export function helpText(command?: Command): string {
  return command === undefined ? TOP : TEXTS[command];
}
