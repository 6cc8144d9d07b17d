/**
 * Later revisions that are not seals, appended to a sealed PDF with seald's own IncrementalWriter, for the rollback
 * refusals: a document timestamp (an RFC 3161 token from a real `openssl ts -reply`, ETSI EN 319 142-1 §5.4.3) and a
 * plain edit (a new /Info dictionary).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PdfDocument } from '../../src/pdf/document.ts';
import { IncrementalWriter } from '../../src/pdf/incremental.ts';
import { PdfDict, PdfRaw, PdfRef, PdfString, dict, name } from '../../src/pdf/objects.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { runOk } from '../support/run.ts';

const TOKEN_BYTES = 8192;

/** Append an incremental update that adds a /DocTimeStamp signature field; its token comes from openssl ts. */
export async function appendDocTimeStamp(pdf: Buffer, dir: string): Promise<Buffer> {
  fs.mkdirSync(dir, { recursive: true });
  const file = (n: string): string => path.join(dir, n);
  await runOk('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('tsa.key'), '-out', file('tsa.pem'),
    '-subj', '/CN=Test TSA', '-days', '2', '-addext', 'extendedKeyUsage=critical,timeStamping',
  ]);
  fs.writeFileSync(file('serial'), '01\n');
  fs.writeFileSync(
    file('ts.cnf'),
    `[ tsa_config ]\nserial = ${file('serial')}\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\ness_cert_id_alg = sha256\naccuracy = secs:1\n`,
  );

  const doc = PdfDocument.open(bufferSource(pdf));
  const w = new IncrementalWriter(doc);
  const sig = w.add(
    dict({
      Type: name('DocTimeStamp'),
      Filter: name('Adobe.PPKLite'),
      SubFilter: name('ETSI.RFC3161'),
      ByteRange: new PdfRaw(Buffer.from('[0 0000000000 0000000000 0000000000]'), 'ByteRange'),
      Contents: new PdfRaw(Buffer.from(`<${'0'.repeat(TOKEN_BYTES * 2)}>`), 'Contents'),
    }),
  );
  const field = w.add(dict({ FT: name('Sig'), T: PdfString.text('DocTimeStamp1'), V: sig, Type: name('Annot'), Subtype: name('Widget'), Rect: [0, 0, 0, 0], F: 132 }));
  const afEntry = doc.catalog.get('AcroForm');
  const af = (doc.resolveDict(afEntry) ?? new PdfDict()).clone();
  const fields = doc.resolve(af.get('Fields'));
  af.set('Fields', [...(Array.isArray(fields) ? fields : []), field]);
  if (afEntry instanceof PdfRef) w.update(afEntry, af);
  else {
    const catalog = doc.catalog.clone();
    catalog.set('AcroForm', af);
    w.update(doc.catalogRef, catalog);
  }
  const section = w.write();
  const base = pdf.length;
  const contentsStart = section.marks.get('Contents')!;
  const contentsEnd = contentsStart + TOKEN_BYTES * 2 + 2;
  const total = base + section.bytes.length;
  const byteRange = [0, contentsStart, contentsEnd, total - contentsEnd];
  section.bytes.write(`[${byteRange.join(' ')}]`.padEnd(36, ' '), section.marks.get('ByteRange')! - base, 'latin1');
  const whole = Buffer.concat([pdf, section.bytes]);
  fs.writeFileSync(file('signed-ranges.bin'), Buffer.concat([whole.subarray(0, contentsStart), whole.subarray(contentsEnd)]));
  await runOk('openssl', ['ts', '-query', '-data', file('signed-ranges.bin'), '-sha256', '-cert', '-no_nonce', '-out', file('request.tsq')]);
  await runOk('openssl', [
    'ts', '-reply', '-config', file('ts.cnf'), '-section', 'tsa_config', '-queryfile', file('request.tsq'),
    '-signer', file('tsa.pem'), '-inkey', file('tsa.key'), '-token_out', '-out', file('token.der'),
  ]);
  const token = fs.readFileSync(file('token.der'));
  if (token.length > TOKEN_BYTES) throw new Error('the timestamp token does not fit');
  whole.write(token.toString('hex'), contentsStart + 1, 'latin1');
  // The token covers the signed ranges (openssl's own check, so the fixture is what it claims to be).
  await runOk('openssl', ['ts', '-verify', '-data', file('signed-ranges.bin'), '-in', file('token.der'), '-token_in', '-CAfile', file('tsa.pem')]);
  return whole;
}

/** Append an incremental update that only replaces the document information dictionary (a foreign edit). */
export function appendInfoEdit(pdf: Buffer): Buffer {
  const doc = PdfDocument.open(bufferSource(pdf));
  const w = new IncrementalWriter(doc);
  const info = w.add(dict({ Title: PdfString.text('edited after sealing') }));
  const catalog = doc.catalog.clone();
  catalog.set('Info', info); // a harmless new catalog version that keeps the xref chain well-formed
  w.update(doc.catalogRef, catalog);
  return Buffer.concat([pdf, w.write().bytes]);
}
