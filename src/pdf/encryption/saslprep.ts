/**
 * SASLprep (RFC 4013), the stringprep (RFC 3454) profile ISO 32000-2 §7.6.4.3.3 applies to passwords of the standard
 * security handler's revision 6 (and Adobe's extension level 3 revision 5) before they are encoded as UTF-8.
 *
 * Steps, RFC 4013 §2: map (non-ASCII spaces, RFC 3454 C.1.2, to U+0020; "commonly mapped to nothing", B.1, removed),
 * normalise (Unicode NFKC, §2.2), refuse prohibited output (§2.3: C.1.2, C.2.1–C.9), check bidirectional strings
 * (§2.4, RFC 3454 §6). Unassigned code points (A.1) are allowed, as for a stored-string "query" (RFC 3454 §7): a
 * password typed in a newer Unicode must still open the document.
 *
 * Deviation, on purpose: RFC 3454 D.2 (characters of bidi class L) is approximated by "a letter (General_Category L)
 * not in D.1"; JavaScript regular expressions have no Bidi_Class property, and the difference only matters for
 * strings mixing right-to-left letters with left-to-right symbols of other categories.
 */

/** Thrown for a string SASLprep refuses; the message names the rule, never the string. */
export class SaslprepError extends Error {}

// RFC 3454 C.1.2, non-ASCII space characters.
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/gu;
// RFC 3454 B.1, commonly mapped to nothing.
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;

/** RFC 3454 tables C.1.2 and C.2.1–C.9, as RFC 4013 §2.3 lists them. */
const PROHIBITED: [string, RegExp][] = [
  ['a non-ASCII space (RFC 3454 C.1.2)', /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/u],
  ['an ASCII control character (C.2.1)', /[\u0000-\u001F\u007F]/u],
  [
    'a non-ASCII control character (C.2.2)',
    /[\u0080-\u009F\u06DD\u070F\u180E\u200C\u200D\u2028\u2029\u2060-\u2063\u206A-\u206F\uFEFF\uFFF9-\uFFFC\u{1D173}-\u{1D17A}]/u,
  ],
  ['a private-use character (C.3)', /[\uE000-\uF8FF\u{F0000}-\u{FFFFD}\u{100000}-\u{10FFFD}]/u],
  [
    'a non-character code point (C.4)',
    /[\uFDD0-\uFDEF\uFFFE\uFFFF\u{1FFFE}\u{1FFFF}\u{2FFFE}\u{2FFFF}\u{3FFFE}\u{3FFFF}\u{4FFFE}\u{4FFFF}\u{5FFFE}\u{5FFFF}\u{6FFFE}\u{6FFFF}\u{7FFFE}\u{7FFFF}\u{8FFFE}\u{8FFFF}\u{9FFFE}\u{9FFFF}\u{AFFFE}\u{AFFFF}\u{BFFFE}\u{BFFFF}\u{CFFFE}\u{CFFFF}\u{DFFFE}\u{DFFFF}\u{EFFFE}\u{EFFFF}\u{FFFFE}\u{FFFFF}\u{10FFFE}\u{10FFFF}]/u,
  ],
  ['a surrogate code point (C.5)', /\p{Cs}/u],
  ['a character inappropriate for plain text (C.6)', /[\uFFF9-\uFFFD]/u],
  ['an ideographic description character (C.7)', /[\u2FF0-\u2FFB]/u],
  ['a display-changing or deprecated character (C.8)', /[\u0340\u0341\u200E\u200F\u202A-\u202E\u206A-\u206F]/u],
  ['a tagging character (C.9)', /[\u{E0001}\u{E0020}-\u{E007F}]/u],
];

// RFC 3454 D.1, characters with bidirectional property R or AL.
const RAND_AL =
  '\u05BE\u05C0\u05C3\u05D0-\u05EA\u05F0-\u05F4\u061B\u061F\u0621-\u063A\u0640-\u064A\u066D-\u066F\u0671-\u06D5' +
  '\u06DD\u06E5\u06E6\u06FA-\u06FE\u0700-\u070D\u0710\u0712-\u072C\u0780-\u07A5\u07B1\u200F\uFB1D\uFB1F-\uFB28' +
  '\uFB2A-\uFB36\uFB38-\uFB3C\uFB3E\uFB40\uFB41\uFB43\uFB44\uFB46-\uFBB1\uFBD3-\uFD3D\uFD50-\uFD8F\uFD92-\uFDC7' +
  '\uFDF0-\uFDFC\uFE70-\uFE74\uFE76-\uFEFC';
const IS_RAND_AL = new RegExp(`[${RAND_AL}]`, 'u');
const IS_L_CAT = new RegExp(`(?![${RAND_AL}])\\p{L}`, 'u');

export function saslprep(input: string): string {
  // §2.1 mapping, §2.2 normalisation.
  const mapped = input.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '');
  const out = mapped.normalize('NFKC');
  // §2.3 prohibited output.
  for (const [what, re] of PROHIBITED) {
    if (re.test(out)) throw new SaslprepError(`the password contains ${what}, which SASLprep (RFC 4013) prohibits`);
  }
  // §2.4 bidirectional characters, RFC 3454 §6.
  const chars = [...out];
  if (chars.some((c) => IS_RAND_AL.test(c))) {
    if (chars.some((c) => IS_L_CAT.test(c)) || !IS_RAND_AL.test(chars[0]!) || !IS_RAND_AL.test(chars[chars.length - 1]!)) {
      throw new SaslprepError('the password mixes right-to-left and left-to-right text in a way SASLprep (RFC 4013 §2.4) prohibits');
    }
  }
  return out;
}
