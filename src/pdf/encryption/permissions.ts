/**
 * User access permissions of the standard security handler: the /P entry, ISO 32000-1 §7.6.3.2 Table 22 (ISO 32000-2
 * §7.6.4.2 Table 22). Bit positions are 1-based, low-order bit 1, as the standard numbers them.
 */
export interface Permissions {
  /** /P as the unsigned 32-bit value. */
  raw: number;
  /** Bit 3: print (at low quality when bit 12 is clear, R ≥ 3). */
  print: boolean;
  /** Bit 4: modify the contents other than by bits 6, 9 and 11. */
  modify: boolean;
  /** Bit 5: copy or extract text and graphics. */
  copy: boolean;
  /** Bit 6: add or modify annotations, fill in interactive form fields (and, with bit 4, create fields). */
  annotate: boolean;
  /** Bit 9 (R ≥ 3): fill in existing form fields, signature fields included, even when bit 6 is clear. */
  fillForms: boolean;
  /** Bit 10: extract for accessibility. */
  extractForAccessibility: boolean;
  /** Bit 11 (R ≥ 3): assemble (insert, rotate, delete pages; bookmarks; thumbnails). */
  assemble: boolean;
  /** Bit 12 (R ≥ 3): print faithfully (high quality). */
  printHighQuality: boolean;
}

const bit = (p: number, n: number): boolean => ((p >>> (n - 1)) & 1) === 1;

/** Revision 2 has no bits 9–12: what they stand for follows bits 6 and 3 (Table 22's R2 notes). */
export function readPermissions(p: number, revision: number): Permissions {
  const raw = p >>> 0;
  const r2 = revision < 3;
  return {
    raw,
    print: bit(raw, 3),
    modify: bit(raw, 4),
    copy: bit(raw, 5),
    annotate: bit(raw, 6),
    fillForms: r2 ? bit(raw, 6) : bit(raw, 9),
    extractForAccessibility: r2 ? bit(raw, 5) : bit(raw, 10),
    assemble: r2 ? bit(raw, 4) : bit(raw, 11),
    printHighQuality: r2 ? bit(raw, 3) : bit(raw, 12),
  };
}

/**
 * Whether an encrypted document may receive a seal, and why not. Acrobat's rule, from Table 22: signing a signature
 * field is "filling in a form field", allowed by bit 9 (R ≥ 3) or bit 6; the owner password grants everything
 * (§7.6.3.1). A seal of several marks also adds stamp annotations, which only bit 6 allows. Returns the refusal in
 * plain words, or undefined when sealing is allowed.
 */
export function sealingRefusal(permissions: Permissions, ownerAuthenticated: boolean, markCount = 1): string | undefined {
  if (ownerAuthenticated || permissions.annotate) return undefined;
  if (!permissions.fillForms) {
    return (
      'the PDF\'s permissions do not allow signing: its owner has withheld both "fill in form fields, including ' +
      'signature fields" (bit 9 of /P) and "add or modify annotations, fill in form fields" (bit 6); open it with the ' +
      'owner password to seal it'
    );
  }
  if (markCount > 1) {
    return (
      `the PDF's permissions allow signing but not "add or modify annotations" (bit 6 of /P): a seal with ${markCount} ` +
      'marks adds stamp annotations; seal it with a single mark, or open it with the owner password'
    );
  }
  return undefined;
}
