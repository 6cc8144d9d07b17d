/** Trust anchors from files: PEM bundles (every certificate in them) or single DER certificates. */
import * as fs from 'node:fs';
import { pemToDer } from './certificate.ts';
import { SealdError } from '../errors.ts';

export function loadTrustAnchors(files: readonly string[]): Uint8Array[] {
  const anchors: Uint8Array[] = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (cause) {
      throw new SealdError('invalid-input', 'TRUST_ANCHOR_UNREADABLE', `cannot read trust anchor file ${file}`, { cause });
    }
    const pems = pemToDer(bytes.toString('latin1'));
    if (pems.length > 0) anchors.push(...pems);
    else if (bytes[0] === 0x30) anchors.push(new Uint8Array(bytes));
    else throw new SealdError('invalid-input', 'TRUST_ANCHOR_INVALID', `${file} holds no PEM or DER certificate`);
  }
  return anchors;
}
