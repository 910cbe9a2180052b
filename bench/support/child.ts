/**
 * Runs this bench script again as a child (`tsx SCRIPT --child ARGS…`), so regprune's own process
 * is what is measured, and returns the JSON figures on the child's last stdout line.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The child's figures, or a rejection with the end of its stderr. */
export function runChildJson<T>(
  root: string,
  script: string,
  args: readonly string[],
  options: { nodeOptions?: string; what?: string } = {},
): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const env =
      options.nodeOptions === undefined
        ? process.env
        : { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${options.nodeOptions}`.trim() };
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [script, '--child', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolvePromise(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as T);
      } catch (error) {
        reject(new Error(`${options.what ?? 'regprune'} child failed (${String(error)}): ${stderr.slice(-2000)}`));
      }
    });
  });
}
