/** An optional tool of the machine (Chromium, pdftoppm): a path named in the environment, else the first name on PATH. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function findExecutable(names: readonly string[], env: NodeJS.ProcessEnv, override?: string): string | undefined {
  if (override) return fs.existsSync(override) ? override : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter((d) => d !== '')) {
    for (const name of names) {
      const file = path.join(dir, name);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return file;
      } catch {
        // next
      }
    }
  }
  return undefined;
}
