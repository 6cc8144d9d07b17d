/**
 * The help text tells the truth: every placement and signature option the seal, batch and locate commands parse
 * is listed in their help, and no help text says the same line twice (batch once listed --timestamp twice and only
 * the position placement, though it parses them all).
 */
import { describe, expect, it } from 'vitest';
import { BATCH_HELP, LOCATE_HELP, SEAL_HELP } from '../../src/cli/help.ts';
import { PLACEMENT_OPTIONS, SIGNATURE_OPTIONS, placementFromOptions, signatureOptionsFrom } from '../../src/cli/commands/placement-options.ts';
import { Anchor, Certification, LengthUnit, Occurrence } from '../../src/gen/seald/v1/seald_pb.ts';
import * as help from '../../src/cli/help.ts';

const documented = (text: string, option: string) => new RegExp(`--${option}\\b`).test(text);

describe('help text', () => {
  it('seal and batch list every placement and signature option they parse; locate every placement option', () => {
    for (const [name, text, options] of [
      ['seal', SEAL_HELP, [...Object.keys(PLACEMENT_OPTIONS), ...Object.keys(SIGNATURE_OPTIONS)]],
      ['batch', BATCH_HELP, [...Object.keys(PLACEMENT_OPTIONS), ...Object.keys(SIGNATURE_OPTIONS)]],
      ['locate', LOCATE_HELP, Object.keys(PLACEMENT_OPTIONS)],
    ] as const) {
      const missing = options.filter((o) => !documented(text, o));
      expect(missing, `seald help ${name}`).toEqual([]);
    }
  });

  it('no help text repeats a line', () => {
    for (const [name, text] of Object.entries(help)) {
      if (typeof text !== 'string') continue;
      const lines = text.split('\n').filter((l) => l.trim().length > 0);
      const repeated = lines.filter((l, i) => lines.indexOf(l) !== i);
      expect(repeated, name).toEqual([]);
    }
  });

  it('the options make the placements and certification the help promises', () => {
    const relative = placementFromOptions({ anchor: 'bottom-right', margin: '20mm,5%', pages: '-1' }, 'seal');
    expect(relative.kind.case).toBe('relative');
    const r = relative.kind.value as { pages: string; anchor: Anchor; marginX: { value: number; unit: LengthUnit }; marginY: { value: number; unit: LengthUnit } };
    expect([r.pages, r.anchor, r.marginX.value, r.marginX.unit, r.marginY.value, r.marginY.unit]).toEqual([
      '-1', Anchor.BOTTOM_RIGHT, 20, LengthUnit.MILLIMETRE, 5, LengthUnit.PERCENT,
    ]);
    const one = placementFromOptions({ anchor: 'centre', margin: '-12', page: '2' }, 'seal').kind.value as typeof r;
    expect([one.pages, one.marginX.value, one.marginX.unit, one.marginY.value]).toEqual(['2', -12, LengthUnit.POINT, -12]);
    const chosen = placementFromOptions({ keyword: 'x', occurrence: '1,3' }, 'seal').kind.value as { occurrence: Occurrence; hits: number[] };
    expect([chosen.occurrence, chosen.hits]).toEqual([Occurrence.HITS, [1, 3]]);
    const single = placementFromOptions({ keyword: 'x', occurrence: '3' }, 'seal').kind.value as { occurrence: Occurrence; index: number };
    expect([single.occurrence, single.index]).toEqual([Occurrence.INDEX, 3]);
    expect(signatureOptionsFrom({ certify: 'no-changes' }).certification).toBe(Certification.NO_CHANGES);
    expect(signatureOptionsFrom({ certify: 'form-filling' }).certification).toBe(Certification.FORM_FILLING);
    expect(signatureOptionsFrom({}).certification).toBe(Certification.UNSPECIFIED);
    expect(() => signatureOptionsFrom({ certify: 'p1' }, 'batch')).toThrow(/--certify: expected no-changes or form-filling/);
  });
});
