/**
 * The live policy: loaded at start, reloaded when its file changes (fs.watch on the directory — editors replace
 * files by rename — debounced, then a re-stat to skip events that changed nothing) or on `reload()` (SIGHUP).
 * Each call authorises against the policy current when it starts, so a reload never disturbs a call in flight; the
 * next call sees the new one. A file that does not parse or validate leaves the previous policy in force.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { SealdError } from '../errors.ts';
import { defaultPolicy, parsePolicy, type Policy } from './policy.ts';

/** Where the policy lives: a file of its own (`principals:` at its top), or the `policy` section of the config file. */
export interface PolicySource {
  file: string;
  /** True when `file` is the server configuration and the policy is its `policy` section. */
  section: boolean;
}

/** What the store reports (the server's logger fits). */
export interface PolicyLog {
  info(data: object, message: string): void;
  error(data: object, message: string): void;
}

export const RELOAD_DEBOUNCE_MS = 100;

export async function readPolicy(source: PolicySource): Promise<Policy> {
  let text: string;
  try {
    text = await fs.promises.readFile(source.file, 'utf8');
  } catch (cause) {
    throw new SealdError('invalid-input', 'POLICY_INVALID', `cannot read the policy file ${source.file}`, { cause });
  }
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new SealdError('invalid-input', 'POLICY_INVALID', `${source.file}: ${document.errors[0]!.message}`);
  }
  const value = document.toJS() as unknown;
  if (!source.section) return parsePolicy(value, source.file);
  const policy = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).policy : undefined;
  if (policy === undefined) {
    throw new SealdError('invalid-input', 'POLICY_INVALID', `${source.file}: the \`policy:\` section is gone`);
  }
  return parsePolicy(policy, source.file);
}

export class PolicyStore {
  private policy: Policy;
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stamp: string | undefined;
  private reloading: Promise<void> | undefined;
  /** Successful reloads (tests wait on it). */
  generation = 0;

  private constructor(
    private readonly source: PolicySource | undefined,
    initial: Policy,
    private readonly log: PolicyLog,
  ) {
    this.policy = initial;
  }

  /** Load the policy (`builtIn` when there is no source) and, with a file, watch it. */
  static async open(source: PolicySource | undefined, log: PolicyLog, builtIn: () => Policy = defaultPolicy): Promise<PolicyStore> {
    const initial = source === undefined ? builtIn() : await readPolicy(source);
    const store = new PolicyStore(source, initial, log);
    if (source !== undefined) {
      store.stamp = fileStamp(source.file);
      store.watch(source.file);
    }
    log.info({ policy: initial.source, principals: initial.principals.length }, 'policy loaded');
    return store;
  }

  /** The policy in force now: take it once per call. */
  current(): Policy {
    return this.policy;
  }

  /** Re-read the file (SIGHUP). Resolves when done; a bad file is logged and the old policy stays. */
  reload(reason = 'reload requested'): Promise<void> {
    if (this.source === undefined) return Promise.resolve();
    const source = this.source;
    this.reloading ??= (async () => {
      try {
        const next = await readPolicy(source);
        this.policy = next;
        this.stamp = fileStamp(source.file);
        this.generation++;
        this.log.info({ policy: source.file, reason, principals: next.principals.length }, 'policy reloaded');
      } catch (error) {
        this.log.error({ err: error, policy: source.file, reason }, 'policy not reloaded: the previous policy stays in force');
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private watch(file: string): void {
    const name = path.basename(file);
    this.watcher = fs.watch(path.dirname(file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        // Editors touch a file several times per save, and watchers report more than changes: compare a re-stat.
        if (fileStamp(file) !== this.stamp) void this.reload('file changed');
      }, RELOAD_DEBOUNCE_MS);
    });
    this.watcher.on('error', (error) => this.log.error({ err: error, policy: file }, 'cannot watch the policy file; SIGHUP still reloads'));
  }
}

/** What tells a changed file from an untouched one (inode, size, times): a watcher's spare event reloads nothing. */
export function fileStamp(file: string): string | undefined {
  try {
    const s = fs.statSync(file, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return undefined;
  }
}
