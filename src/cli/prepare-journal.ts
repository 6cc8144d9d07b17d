/**
 * The journal of `seald batch --prepare-locally` (prepare-client.ts): per document whose digest was sent and whose
 * output is not yet written, the signing time and /ID entropy of its preparation, one small JSON file each in
 * OUT_DIR/.seald-prepared/. A re-run after a crash prepares such a document with the same facts, so the server
 * replays the signature it made instead of signing again. Holds no document content, PIN or password.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AtomicOutputFile } from './output-file.ts';
import type { PreparationFacts, PreparationJournal } from './prepare-client.ts';

export const JOURNAL_DIR = '.seald-prepared';

export function directoryJournal(outDir: string): PreparationJournal {
  const dir = path.join(outDir, JOURNAL_DIR);
  const fileOf = (id: string): string => path.join(dir, `${encodeURIComponent(id)}.json`);
  return {
    async get(id) {
      try {
        const facts = JSON.parse(await fs.promises.readFile(fileOf(id), 'utf8')) as Partial<PreparationFacts>;
        const complete = typeof facts.inputSha256 === 'string' && typeof facts.signingTime === 'string' && typeof facts.idEntropy === 'string';
        return complete ? (facts as PreparationFacts) : undefined;
      } catch {
        return undefined; // none, or unreadable: prepare afresh
      }
    },
    async put(id, facts) {
      await fs.promises.mkdir(dir, { recursive: true });
      const file = await AtomicOutputFile.create(fileOf(id));
      try {
        await file.write(Buffer.from(JSON.stringify(facts)));
        await file.commit();
      } finally {
        await file.abandon();
      }
    },
    async remove(id) {
      await fs.promises.rm(fileOf(id), { force: true });
    },
    async settle() {
      // Only at the end of a call: removing it while documents are in flight would pull it from under their put().
      await fs.promises.rmdir(dir).catch(() => undefined); // fails unless empty: entries left are for the next run
    },
  };
}
