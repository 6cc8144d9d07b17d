/**
 * The Document Security Store (ISO 32000-2 §12.8.4.3; ETSI EN 319 142-1 §5.4.2): certificates, OCSP responses and
 * CRLs a validator needs, stored in the document so it still validates once the CAs and responders are gone. Written
 * as one incremental update that adds what the document lacks (by SHA-256 of the DER) to an existing DSS or creates
 * one, leaving every earlier revision, and so every signature, untouched.
 */
import { createHash } from 'node:crypto';
import { IncrementalWriter } from './incremental.ts';
import { PdfDict, PdfRef, PdfStream, dict, name, type PdfObject } from './objects.ts';
import type { PdfDocument } from './document.ts';
import { decodeStream } from './filters.ts';

export interface ValidationData {
  certificates: readonly Uint8Array[];
  ocsps: readonly Uint8Array[];
  crls: readonly Uint8Array[];
}

export interface DssUpdate {
  /** The update to append, or undefined when the document already holds everything. */
  bytes: Buffer | undefined;
  added: { certificates: number; ocsps: number; crls: number };
}

const KEYS = { certificates: 'Certs', ocsps: 'OCSPs', crls: 'CRLs' } as const;

/** What the document's DSS already holds, as DER. */
export function readDss(doc: PdfDocument): ValidationData {
  const dss = doc.resolveDict(doc.catalog.get('DSS'));
  const read = (key: string): Uint8Array[] => {
    const list = dss === undefined ? undefined : doc.resolve(dss.get(key));
    if (!Array.isArray(list)) return [];
    const out: Uint8Array[] = [];
    for (const item of list) {
      const stream = doc.resolve(item);
      if (stream instanceof PdfStream) out.push(decodeStream(stream, (o) => doc.resolve(o)));
    }
    return out;
  };
  return { certificates: read(KEYS.certificates), ocsps: read(KEYS.ocsps), crls: read(KEYS.crls) };
}

export function prepareDss(doc: PdfDocument, data: ValidationData): DssUpdate {
  const existingEntry = doc.catalog.get('DSS');
  const existing = doc.resolveDict(existingEntry);
  const held = readDss(doc);
  const w = new IncrementalWriter(doc);
  const dss = existing?.clone() ?? dict({ Type: name('DSS') });
  const added = { certificates: 0, ocsps: 0, crls: 0 };
  for (const kind of ['certificates', 'ocsps', 'crls'] as const) {
    const seen = new Set(held[kind].map(sha256));
    const fresh: PdfRef[] = [];
    for (const der of data[kind]) {
      const digest = sha256(der);
      if (seen.has(digest)) continue;
      seen.add(digest);
      fresh.push(w.add(new PdfStream(new PdfDict(), der)));
    }
    if (fresh.length === 0) continue;
    added[kind] = fresh.length;
    const current = existing === undefined ? undefined : existing.get(KEYS[kind]);
    if (current instanceof PdfRef) {
      // An indirect array: a new version of that array object.
      w.update(current, [...arrayOf(doc.resolve(current)), ...fresh]);
    } else {
      dss.set(KEYS[kind], [...arrayOf(current), ...fresh]);
    }
  }
  if (added.certificates + added.ocsps + added.crls === 0) return { bytes: undefined, added };
  if (existingEntry instanceof PdfRef) {
    w.update(existingEntry, dss);
  } else {
    const catalog = doc.catalog.clone();
    catalog.set('DSS', w.add(dss));
    w.update(doc.catalogRef, catalog);
  }
  return { bytes: w.write().bytes, added };
}

function arrayOf(value: PdfObject | undefined): PdfObject[] {
  return Array.isArray(value) ? value : [];
}

function sha256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}
