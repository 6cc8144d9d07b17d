/** The work list a runner gets from the orchestrator: absolute input paths, their kind and size, and where each output goes. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { CorpusFile } from '../corpus.ts';

export interface WorkItem extends CorpusFile {
  /** Absolute input path. */
  input: string;
  /** Absolute output path. */
  output: string;
}

export interface RunnerArgs {
  items: WorkItem[];
  concurrency: number;
  values: Record<string, string | boolean | undefined>;
}

/** `--list FILE.json --concurrency N [extra string options]` */
export async function runnerArgs(extra: string[] = []): Promise<RunnerArgs> {
  const { values } = parseArgs({
    options: {
      list: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      ...Object.fromEntries(extra.map((name) => [name, { type: 'string' as const }])),
    },
  });
  if (values.list === undefined) throw new Error('--list is required');
  const items = JSON.parse(await readFile(values.list, 'utf8')) as WorkItem[];
  return { items, concurrency: Number(values.concurrency), values };
}

