/**
 * What an update did to an existing form field or widget (ISO 32000-1 §12.7.4): an empty signature field signed,
 * a value filled in — or, forbidden, an appearance redrawn for a value that did not change. changes.ts asks.
 */
import type { PdfDocument } from '../../pdf/document.ts';
import { PdfDict, PdfRef, type PdfObject } from '../../pdf/objects.ts';
import type { Budget } from '../../pdf/limits.ts';
import { changedKeys, fieldInfo, sameValue } from '../../pdf/compare.ts';
import type { ChangeClass } from './change-class.ts';

// /I: the selected options of a choice field (§12.7.4.4 Table 231), set with /V when a list entry is chosen; /DA: the
// font and colour the filled-in value is drawn with (§12.7.3.3; DSS's DSS-3577.pdf switches to a font with more glyphs).
const FORM_FILL_KEYS = new Set(['V', 'AP', 'AS', 'M', 'I', 'DA']);

export interface FieldChange {
  cls: ChangeClass;
  kind: string;
  description: string;
  field?: string;
}

/** An existing field or widget: only an empty signature field being signed, or form filling (§12.7.4). */
export function fieldChange(
  prev: PdfDocument,
  cur: PdfDocument,
  num: number,
  old: PdfObject,
  value: PdfObject,
  newSigNums: (number | undefined)[],
  budget: Budget,
): FieldChange | undefined {
  if (!(old instanceof PdfDict) || !(value instanceof PdfDict)) return undefined;
  const info = fieldInfo(prev, old);
  const keys = changedKeys(old, value, budget);
  // A signer that fills an empty signature field may also set its widget's flags (pyHanko locks it: /F 4 → 132).
  const signing = info.ft === 'Sig' && !old.has('V') && value.get('V') instanceof PdfRef;
  if (info.ft === undefined || !keys.every((k) => FORM_FILL_KEYS.has(k) || (signing && k === 'F'))) return undefined;
  if (info.ft === 'Sig') {
    const v = value.get('V');
    if (!old.has('V') && v instanceof PdfRef && newSigNums.includes(v.num)) {
      return { cls: 'signing', kind: 'signature-field-signed', description: `the empty signature field "${info.name}" was signed` };
    }
    return undefined;
  }
  // Its appearance redrawn while its value stays the same: the signed revision showed something else for that value
  // (the shadow attack "replace": a field signed with a blank or misleading appearance, its true text revealed
  // later; EU DSS reports it as an undefined change, dss-2236/replace.pdf). A value filled in redraws the widget.
  if (old.has('AP') && !keys.includes('AS') && sameFieldValue(prev, cur, old, value, budget)) {
    return { cls: 'forbidden', kind: 'appearance-redrawn', description: `the appearance of form field "${info.name}" was redrawn although its value did not change` };
  }
  return { cls: 'form-fill', kind: 'form-field-filled', description: `form field "${info.name}" filled in`, field: info.name };
}

/** The field's value (/V, inherited from its parents, §12.7.4.1) is the same in both revisions. */
function sameFieldValue(prev: PdfDocument, cur: PdfDocument, old: PdfDict, value: PdfDict, budget: Budget): boolean {
  const inherited = (doc: PdfDocument, dict: PdfDict): PdfObject | undefined => {
    let at: PdfDict | undefined = dict;
    for (let i = 0; at && i < 32; i++) {
      if (at.has('V')) return doc.resolve(at.get('V'));
      at = doc.resolveDict(at.get('Parent'));
    }
    return undefined;
  };
  const a = inherited(prev, old);
  const b = inherited(cur, value);
  if (a === undefined || b === undefined) return a === b;
  return sameValue(a, b, budget, (x) => prev.decode(x), (x) => cur.decode(x));
}

