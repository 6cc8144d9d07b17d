/**
 * Reload on save: the configuration file is watched as the policy file is (src/auth/policy-store.ts) — fs.watch on
 * its directory, since editors replace a file by rename; events debounced; then a re-stat, so an event that changed
 * nothing (an editor's touch, a watcher's spare report) reloads nothing. A change runs the same reload as SIGHUP,
 * which swaps the seals in one synchronous step: a call in flight keeps the seal it started with.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileStamp } from '../auth/policy-store.ts';
import type { Logger } from './logger.ts';

export const CONFIG_RELOAD_DEBOUNCE_MS = 200;

export interface ConfigWatch {
  close(): void;
}

export function watchConfigFile(file: string, reload: (reason: string) => void, logger: Logger, debounceMs = CONFIG_RELOAD_DEBOUNCE_MS): ConfigWatch {
  const name = path.basename(file);
  let stamp = fileStamp(file);
  let timer: NodeJS.Timeout | undefined;
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(path.dirname(file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        const now = fileStamp(file);
        if (now === undefined || now === stamp) return;
        stamp = now;
        logger.info({ config: file }, 'configuration file changed: reloading the seals');
        reload('file changed');
      }, debounceMs);
    });
    watcher.on('error', (error) => logger.error({ err: error, config: file }, 'cannot watch the configuration file; SIGHUP still reloads'));
  } catch (error) {
    logger.error({ err: error, config: file }, 'cannot watch the configuration file; SIGHUP still reloads');
  }
  return {
    close() {
      watcher?.close();
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
