/** Help texts, one per command. */

export type Command = 'plan' | 'prune' | 'report' | 'validate' | 'schema' | 'import';

export const COMMANDS: readonly Command[] = ['plan', 'prune', 'report', 'validate', 'schema', 'import'];

const TOP = `regprune: keep container registries lean (ACR, ECR, any OCI registry)

Usage:
  regprune plan     --config FILE [--json] [--all] [--repository GLOB] [--registry NAME] [--state DIR]
                    [--no-cache]
  regprune prune    --config FILE [--dry-run|--no-dry-run] [--json] [--report FILE]
                    [--format json|markdown|html] [--history FILE] [--state DIR] [--all]
                    [--repository GLOB] [--registry NAME]
  regprune report   --config FILE [--json|--format json|markdown|html] [--report FILE]
                    [--history FILE] [--state DIR] [--repository GLOB] [--registry NAME]
                    [--what-if 1,3,5,10,20]
  regprune validate --config FILE
  regprune schema
  regprune plan|prune --registry-url URL --filter 'REPO_REGEX:TAG_REGEX' [--keep N] [--older-than 30d]
                    [--untagged] [--pinned TAG] [--provider oci|acr|ecr]   (a one-off run, no config file)
  regprune import   ecr-lifecycle FILE [--endpoint HOST] [--repository NAME]
  regprune import   acr-purge "COMMAND LINE" [--endpoint URL]

Commands:
  plan      Show what would be kept and deleted, and why. Never deletes.
  prune     Delete what the config's rules say (a dry run unless the config or --no-dry-run says otherwise).
  report    Storage and cost of the registries, and what the rules would reclaim. Never deletes.
  validate  Check a config file; calls no registry.
  schema    Print the JSON Schema of the config file.
  import    Print a config made from an ECR lifecycle policy or an acr purge command line.

Options:
  -q, --quiet / -v, --verbose   Less / more on stderr (plan, prune, report)
  -h, --help     Help (also per command: regprune prune --help)
  --version      Print the version

Exit codes: 0 done; 1 something failed at run time (unreachable registry, auth, a failed deletion);
2 bad usage or bad config (and then no registry was called).
`;

const VERBOSITY = `  -q, --quiet        Only warnings and errors on stderr (no progress)
  -v, --verbose      Also each repository's line and debug detail on stderr`;

const ALL = `  --all              Every image line; by default more than 20 of one fate fold into "… N more"`;

const SCOPE = `  --repository GLOB  Only repositories matching this glob or /regex/ (and a config rule)
  --registry NAME    Only this configured registry (repeatable)`;

const STATE_AND_HISTORY = `  --history FILE     Append this run's summary to FILE (JSON Lines) instead of the state
                     store, and show the trend of bytes and cost over the recorded runs
  --state DIR        Where regprune keeps its state (run lock, run history): a directory,
                     s3://BUCKET or https://ACCOUNT.blob.core.windows.net/CONTAINER; default
                     $REGPRUNE_STATE, else the functions' store when $REGPRUNE_STATE_BUCKET or
                     $AzureWebJobsStorage is set, else $XDG_CACHE_HOME/regprune, else
                     ~/.cache/regprune
  --no-cache         Read every manifest and config from the registry, not from the inventory
                     cache the state store keeps (it holds only what never changes for a digest)`;

const FORMAT = `  --format FORMAT    json (report v1 with storage and cost), markdown or html (one self-contained
                     file with charts); default: markdown on stdout, or the --report file's extension
${STATE_AND_HISTORY}`;

// prune's stdout is always the summary (or --json): --format only ever names the --report file's format.
const PRUNE_FORMAT = `  --format FORMAT    Format of the --report file: json, markdown or html; needs --report;
                     default: by its extension (.md Markdown, .html HTML, anything else JSON)
${STATE_AND_HISTORY}`;

const ONE_OFF = `One-off run (instead of --config; like acr purge):
  --registry-url URL   The registry: https://myreg.azurecr.io, an ECR host, http://127.0.0.1:5000
  --provider KIND      oci, acr or ecr; default: from the URL (*.azurecr.io acr, *.dkr.ecr.* ecr, else oci)
  --filter R:T         Repositories matching the regex R, tags matching the regex T (both whole-name;
                       repeatable; T omitted or .* = every tag; tags T does not match are kept)
  --keep N             Keep the N most recent (default 10)
  --older-than AGE     Delete only images older than AGE (30d, 2d3h6m)
  --min-age AGE        Grace period (default 1d)
  --untagged           Also delete untagged manifests nothing kept references
  --pinned TAG         Never delete this tag (glob or /regex/; repeatable; latest is always pinned)`;

const TEXTS: Record<Command, string> = {
  plan: `Usage: regprune plan --config FILE [--json] [--all] [--quiet|--verbose] [--repository GLOB]
                     [--registry NAME]

Lists every repository a config rule matches, decides what to keep (with the reason) and what a
prune would delete, and prints each image newest first: age, push time, digest, tags, fate and
reason. Never deletes, whatever the config says.

  -c, --config FILE  Config file (YAML or JSON)
  --json             Print only the JSON report (version 1) on stdout
${ALL}
${VERBOSITY}
  --state DIR        Where the inventory cache (and the journal) live; as for prune
  --no-cache         Read every manifest and config from the registry, not the inventory cache
${SCOPE}
  -h, --help         This help

${ONE_OFF}
`,
  prune: `Usage: regprune prune --config FILE [--dry-run|--no-dry-run] [--json] [--report FILE]
                      [--format json|markdown|html] [--history FILE] [--state DIR]
                      [--all] [--quiet|--verbose] [--repository GLOB] [--registry NAME]

Deletes what the config's rules say. Just before deleting, kept tags and tags pushed since the
listing are resolved again; a digest they point at is not deleted. Without --dry-run or
--no-dry-run, the config's dryRun decides (default true: nothing is deleted).

  -c, --config FILE  Config file (YAML or JSON)
  --dry-run          Report what would be deleted; delete nothing
  --no-dry-run       Delete, even if the config says dryRun: true
  --max-deletions N  Refuse, before deleting anything, a run that would delete more than N images
                     (exit 1); a registry's maxDeletions in the config caps it too
  -y, --yes          Do not ask before deleting (a real run in a terminal asks, showing the counts;
                     it never asks when stdin or stderr is not a terminal)
  --json             Print only the JSON report (version 1) on stdout
  --report FILE      Also write the report to FILE (JSON, or by extension: .md Markdown, .html HTML)
${PRUNE_FORMAT}
  --all              The closing list of deletions in full (by default 20 per repository)
${VERBOSITY}
${SCOPE}
  -h, --help         This help

${ONE_OFF}
  A one-off run is a dry run unless --no-dry-run is given.
`,
  report: `Usage: regprune report --config FILE [--json|--format json|markdown|html] [--report FILE]
                       [--history FILE] [--state DIR] [--quiet|--verbose]
                       [--repository GLOB] [--registry NAME]

Lists every repository of the configured registries (read permissions only), counts their unique
blob bytes and monthly storage cost, and shows the largest repositories, the oldest images,
untagged bytes and what the configured rules would reclaim. Never deletes, whatever the config says.

  -c, --config FILE  Config file (YAML or JSON); its pricing: section sets the prices
  --json             Same as --format json
  --what-if LIST     Also show what each keep value would reclaim (images, bytes, cost/month),
                     per repository and in total: --what-if 1,3,5,10,20 (at most 12 values)
  --report FILE      Write the report to FILE instead of stdout (format by --format or extension)
${FORMAT}
${VERBOSITY}
${SCOPE}
  -h, --help         This help
`,
  validate: `Usage: regprune validate --config FILE

Checks the config file and prints "ok", or the problems, one line each, on stderr (exit 2).
Calls no registry.

  -c, --config FILE  Config file (YAML or JSON)
  -h, --help         This help
`,
  import: `Usage: regprune import ecr-lifecycle FILE [--endpoint HOST] [--repository NAME]
       regprune import acr-purge "COMMAND LINE" [--endpoint URL]

Prints a complete config (YAML) that does what the ECR lifecycle policy (JSON, as
aws ecr get-lifecycle-policy prints it or as written) or the acr purge command does. A comment
marks each rule that regprune cannot say exactly, and why; those are also listed on stderr.
The config is a dry run; check it with regprune validate and regprune plan.

  --endpoint E       The registry (an ECR host, or https://myreg.azurecr.io); default: a
                     placeholder to replace (acr-purge: the command's --registry, if it has one)
  --repository NAME  ecr-lifecycle: the repository the policy belongs to (default: every one)
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
