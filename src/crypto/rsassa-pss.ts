/**
 * RSASSA-PSS signature parameters in a SignerInfo's signatureAlgorithm (RFC 4056 §2 for CMS; RFC 4055 §3.1, RFC 8017
 * Appendix A.2.3), met in German qualified signatures (SecCommerce: EU DSS's Signature-P-DE_SCI-4.pdf):
 *   RSASSA-PSS-params ::= SEQUENCE {
 *     hashAlgorithm    [0] HashAlgorithm    DEFAULT sha1,
 *     maskGenAlgorithm [1] MaskGenAlgorithm DEFAULT mgf1SHA1,   -- { id-mgf1, HashAlgorithm }
 *     saltLength       [2] INTEGER          DEFAULT 20,
 *     trailerField     [3] TrailerField     DEFAULT trailerFieldBC }  -- 1, the only one defined
 * Node's crypto verifies PSS with MGF1 over the signature's own hash, so parameters whose MGF1 hash differs are
 * refused here rather than verified wrongly.
 */
import { children, expectTag, oid, type Tlv } from './der.ts';
import { id_mgf1, id_sha1 } from './oids.ts';

export interface PssParameters {
  /** The OID of the hash (message and MGF1). */
  hash: string;
  saltLength: number;
}

/** The parameters, or a sentence saying why they cannot be verified. */
export function pssParameters(params: Tlv | undefined): PssParameters | string {
  let hash = id_sha1;
  let mgfHash = id_sha1;
  let saltLength = 20;
  try {
    const fields = params === undefined || params.tag === 0x05 ? [] : children(expectTag(params, 0x30, 'RSASSA-PSS-params'));
    for (const field of fields) {
      const inner = children(field)[0];
      if (field.tag === 0xa0) hash = oid(expectTag(children(expectTag(inner, 0x30, 'hashAlgorithm'))[0], 0x06, 'hash'));
      else if (field.tag === 0xa1) {
        const [mgf, mgfParams] = children(expectTag(inner, 0x30, 'maskGenAlgorithm'));
        if (oid(expectTag(mgf, 0x06, 'mgf')) !== id_mgf1) return 'RSASSA-PSS with a mask generation function other than MGF1';
        mgfHash = oid(expectTag(children(expectTag(mgfParams, 0x30, 'MGF1 hash'))[0], 0x06, 'MGF1 hash'));
      } else if (field.tag === 0xa2) saltLength = integer(expectTag(inner, 0x02, 'saltLength'));
      else if (field.tag === 0xa3 && integer(expectTag(inner, 0x02, 'trailerField')) !== 1) return 'RSASSA-PSS with a trailer field other than 0xBC';
    }
  } catch {
    return 'the RSASSA-PSS parameters cannot be read';
  }
  if (mgfHash !== hash) return 'RSASSA-PSS whose MGF1 hash differs from its message hash';
  return { hash, saltLength };
}

function integer(t: Tlv): number {
  if (t.value.length > 4) throw new Error('integer too large');
  let n = 0;
  for (const byte of t.value) n = n * 256 + byte;
  return n;
}
