/**
 * The OUT_DIR journal of `seald batch --prepare-locally` (src/cli/prepare-journal.ts) with documents in flight side by
 * side, as the client runs them: entries are written, read back, removed and left for the next run independently.
 * (Removing the directory after each entry lost 4 of 76 documents of a bench-corpus run to a failed put(); that race
 * did not show in this test's interleavings either way, so the corpus run in bench/ is what guards it.)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { directoryJournal, JOURNAL_DIR } from '../../src/cli/prepare-journal.ts';

describe('prepare-locally journal', () => {
  it('keeps entries of documents in flight side by side, reads back what it kept, and tidies up once the call is over', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-journal-'));
    try {
      const journal = directoryJournal(outDir);
      const facts = (i: number) => ({ inputSha256: `${i}`.padStart(64, '0'), signingTime: new Date(1_800_000_000_000 + i).toISOString(), idEntropy: 'ab'.repeat(24) });
      await Promise.all(
        Array.from({ length: 64 }, async (_, i) => {
          const id = `doc ${i}/ü.pdf`;
          await journal.put(id, facts(i));
          expect(await journal.get(id)).toEqual(facts(i));
          if (i % 8 !== 0) await journal.remove(id);
        }),
      );
      // One document's entry settles while the next one's is written, as they do in a pipelined batch.
      let previous: string | undefined;
      for (let i = 100; i < 400; i++) {
        await Promise.all([journal.put(`next ${i}`, facts(i)), previous === undefined ? undefined : journal.remove(previous)]);
        previous = `next ${i}`;
      }
      await journal.remove(previous!);
      await journal.settle?.();
      // The entries of documents whose output was not written stay for the next run; nothing else does.
      expect(fs.readdirSync(path.join(outDir, JOURNAL_DIR)).length).toBe(8);
      expect(await directoryJournal(outDir).get('doc 8/ü.pdf')).toEqual(facts(8));
      for (let i = 0; i < 64; i += 8) await journal.remove(`doc ${i}/ü.pdf`);
      await journal.settle?.();
      expect(fs.existsSync(path.join(outDir, JOURNAL_DIR))).toBe(false);
      fs.mkdirSync(path.join(outDir, JOURNAL_DIR));
      fs.writeFileSync(path.join(outDir, JOURNAL_DIR, 'torn.json'), '{"inputSha256": "');
      expect(await journal.get('torn')).toBeUndefined();
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});
