/**
 * Which strings and streams of an indirect object are encrypted (ISO 32000-1 §7.6.1; ISO 32000-2 §7.6.2), applied
 * both ways: `decrypt` as objects are loaded, `encrypt` as the incremental writer serialises new ones.
 *
 * Not encrypted, so never touched here:
 * - the /Encrypt dictionary itself and the trailer's /ID (the caller never passes them);
 * - objects inside an object stream (§7.5.7: the object stream is decrypted as a whole, so the caller decrypts only
 *   objects with an xref offset) and cross-reference streams (§7.5.8.2);
 * - the /Contents string of a signature dictionary, which ISO 32000-2 adds to §7.6.1's list of exceptions (PDFium's
 *   crypto handler and poppler read it in the clear too; pdfsig verifies seald's seals of encrypted files), so that the
 *   CMS is the same bytes with or without the key and the /ByteRange gap is exactly the hex string;
 * - the document metadata stream when /EncryptMetadata is false (§7.6.3.2 Table 21, §7.6.5).
 */
import { PdfDict, PdfName, PdfRaw, PdfStream, PdfString, type PdfObject } from '../objects.ts';
import type { CryptFilter } from './crypt-filter.ts';
import type { StandardSecurityHandler } from './standard-handler.ts';

type Apply = (filter: CryptFilter, data: Uint8Array) => Uint8Array;

export class ObjectCipher {
  constructor(private readonly handler: StandardSecurityHandler) {}

  decrypt(value: PdfObject, num: number, gen: number): PdfObject {
    return this.walk(value, (f, data) => f.decrypt(data, num, gen), 0);
  }

  encrypt(value: PdfObject, num: number, gen: number): PdfObject {
    return this.walk(value, (f, data) => f.encrypt(data, num, gen), 0);
  }

  private walk(obj: PdfObject, apply: Apply, depth: number): PdfObject {
    if (depth > 256) return obj;
    if (obj instanceof PdfString) return new PdfString(apply(this.handler.stringFilter, obj.bytes), obj.hex);
    if (Array.isArray(obj)) return obj.map((v) => this.walk(v, apply, depth + 1));
    if (obj instanceof PdfStream) {
      if (obj.dict.name('Type') === 'XRef') return obj;
      const filter = this.streamFilter(obj.dict);
      const dict = this.walkDict(obj.dict, apply, depth);
      return new PdfStream(dict, () => apply(filter, obj.encoded()));
    }
    if (obj instanceof PdfDict) return this.walkDict(obj, apply, depth);
    // Names, numbers, references, null, booleans; PdfRaw is written verbatim (signature placeholders).
    return obj;
  }

  private walkDict(d: PdfDict, apply: Apply, depth: number): PdfDict {
    const signature = isSignatureDictionary(d);
    const out = new PdfDict();
    for (const [key, value] of d.entries) {
      out.set(key, signature && key === 'Contents' ? value : this.walk(value, apply, depth + 1));
    }
    return out;
  }

  /**
   * §7.6.5: /StmF, except for a stream whose first filter is /Crypt (§7.4.10: its /DecodeParms /Name picks the crypt
   * filter, /Identity by default) and the metadata stream of a document that leaves metadata in the clear.
   */
  private streamFilter(dict: PdfDict): CryptFilter {
    const filters = dict.get('Filter');
    const first = Array.isArray(filters) ? filters[0] : filters;
    if (first instanceof PdfName && first.name === 'Crypt') {
      const parms = dict.get('DecodeParms');
      const p = Array.isArray(parms) ? parms[0] : parms;
      const named = p instanceof PdfDict ? p.get('Name') : undefined;
      return this.handler.filter(named instanceof PdfName ? named.name : 'Identity');
    }
    if (!this.handler.info.encryptMetadata && dict.name('Type') === 'Metadata') return this.handler.filter('Identity');
    return this.handler.streamFilter;
  }
}

/**
 * A signature dictionary (§12.8.1 Table 252; DocTimeStamp, ISO 32000-2 Table 255): /Type /Sig or /DocTimeStamp, or,
 * as /Type is optional for /Sig, a dictionary with both a /ByteRange and a /Contents string (or seald's placeholder).
 */
export function isSignatureDictionary(d: PdfDict): boolean {
  const type = d.name('Type');
  if (type === 'Sig' || type === 'DocTimeStamp') return true;
  const contents = d.get('Contents');
  return type === undefined && d.has('ByteRange') && (contents instanceof PdfString || contents instanceof PdfRaw);
}
