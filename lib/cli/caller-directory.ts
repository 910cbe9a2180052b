/** The directory the user typed the command in, however regprune was started (docs/cli.md, "Installing"). */

/**
 * `npm run regprune -- …` (this package's own script) runs the command in the package's root and
 * says where it was typed in INIT_CWD; relative paths (`-c my.yaml`, `--report out.md`) are the
 * caller's. Any other start (`npx regprune`, a global install, a script of another package that
 * may `cd` first) already runs in the right directory and keeps it.
 */
export function callerDirectory(env: NodeJS.ProcessEnv, cwd: string): string {
  const ownScript = env.npm_lifecycle_event === 'regprune' && env.npm_package_name === 'regprune';
  const initCwd = env.INIT_CWD;
  return ownScript && initCwd !== undefined && initCwd !== '' ? initCwd : cwd;
}
