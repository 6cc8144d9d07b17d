/**
 * Finding a seal in the audit log by the document it produced: the record whose `outputSha256` is the given hash
 * says what the document was before that seal (`inputSha256`). Rollback uses it for the one case a file alone
 * cannot settle. Newest files first (a rollback usually follows its seal closely); a rare operation, so a scan.
 */
import * as fs from 'node:fs';
import { listAuditFiles } from './files.ts';

export async function sealInputOf(dir: string, outputSha256: string): Promise<string | undefined> {
  const needle = `"outputSha256":"${outputSha256}"`;
  for (const file of listAuditFiles(dir).reverse()) {
    const text = await fs.promises.readFile(file, 'utf8');
    for (let at = text.lastIndexOf(needle); at >= 0; at = text.lastIndexOf(needle, at - 1)) {
      const line = text.slice(text.lastIndexOf('\n', at) + 1, (text.indexOf('\n', at) + 1 || text.length + 1) - 1);
      try {
        const record = JSON.parse(line) as { operation?: string; result?: string; inputSha256?: string };
        if (record.operation === 'seal' && record.result === 'ok' && typeof record.inputSha256 === 'string') return record.inputSha256;
      } catch {
        // a torn line: not a record
      }
    }
  }
  return undefined;
}
