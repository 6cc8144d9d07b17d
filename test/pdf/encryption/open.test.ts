/**
 * Opening documents qpdf encrypted: every revision of the standard security handler (R2–R6, RC4 and AES, object
 * streams, clear-text metadata), with the user, owner, empty and wrong passwords; every object seald decrypts must
 * equal qpdf's decryption of it, and the permissions qpdf reports.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { PdfDocument } from '../../../src/pdf/document.ts';
import { PdfRef } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import { SealdError } from '../../../src/errors.ts';
import { fixture } from '../../fixtures/index.ts';
import { differs } from './qpdf-compare.ts';
import { OWNER, USER, VARIANTS, encryptWith, qpdfView, variantFile } from './variants.ts';

async function open(file: string, password?: string | Uint8Array): Promise<PdfDocument> {
  return PdfDocument.open(bufferSource(await readFile(file)), password === undefined ? {} : { password });
}

function refusal(f: () => unknown): SealdError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SealdError);
    return e as SealdError;
  }
  throw new Error('expected a refusal');
}

describe.each(VARIANTS)('$name', (v) => {
  it('decrypts every object as qpdf does, with the user password', async () => {
    const file = await variantFile(v);
    const doc = await open(file, v.user);
    const view = await qpdfView(file, v.user);
    expect(view.objects.size).toBeGreaterThan(4);
    for (const [key, theirs] of view.objects) {
      const [num, gen] = key.split(' ').map(Number) as [number, number];
      const ours = doc.getObject(new PdfRef(num, gen));
      if (theirs.stream?.dict['/Type'] === '/XRef') continue;
      expect(differs(ours, theirs), `object ${key}`).toBeUndefined();
    }
    expect(doc.encryption).toMatchObject({ revision: v.revision, algorithm: v.algorithm, ownerAuthenticated: false });
    expect(doc.encryption!.keyBits).toBe(view.encrypt.parameters.bits);
    expect(doc.encryption!.permissions.raw | 0).toBe(view.encrypt.parameters.P);
    expect(doc.pageCount).toBe(1);
    expect(doc.resolveDict(doc.trailer.get('Info'))?.get('Title')).toBeDefined();
  });

  it('opens with the owner password, and says so', async () => {
    const doc = await open(await variantFile(v), OWNER);
    expect(doc.encryption?.ownerAuthenticated).toBe(true);
    expect(doc.pageCount).toBe(1);
    expect((doc.resolveDict(doc.trailer.get('Info'))?.get('Title') as { asText(): string }).asText()).toBe('seald simple fixture');
  });

  it(v.user === '' ? 'opens without a password (the empty user password)' : 'asks for a password when none is given', async () => {
    const bytes = await readFile(await variantFile(v));
    if (v.user === '') {
      expect(PdfDocument.open(bufferSource(bytes)).encryption?.ownerAuthenticated).toBe(false);
      return;
    }
    const e = refusal(() => PdfDocument.open(bufferSource(bytes)));
    expect([e.code, e.category]).toEqual(['PDF_PASSWORD_REQUIRED', 'precondition']);
    expect(e.message).toMatch(/password/);
  });

  it('refuses a wrong password without repeating it', async () => {
    const bytes = await readFile(await variantFile(v));
    const wrong = 'Hunter2-wrong';
    const e = refusal(() => PdfDocument.open(bufferSource(bytes), { password: wrong }));
    expect(e.code).toBe('PDF_PASSWORD_REQUIRED');
    expect(e.message).not.toContain(wrong);
    expect(e.message).not.toContain(USER);
    expect(e.message).not.toContain(OWNER);
    expect(e.stack ?? '').not.toContain(wrong);
  });
});

describe('permissions (/P, ISO 32000-1 Table 22) as qpdf reads them', () => {
  const cases: [string, string[]][] = [
    ['everything withheld', ['--print=none', '--modify=none', '--extract=n', '--annotate=n', '--form=n', '--assemble=n', '--accessibility=n']],
    ['forms but not annotations', ['--annotate=n', '--form=y', '--modify=form']],
    ['low-resolution print only', ['--print=low', '--modify=none', '--extract=n']],
  ];
  it.each(cases)('%s', async (_, flags) => {
    const file = await encryptWith(await fixture('simple'), `perm-${flags.length}-${flags[0]}.pdf`, [USER, OWNER, '256', ...flags]);
    const doc = await open(file, USER);
    const { capabilities: c } = (await qpdfView(file, USER)).encrypt;
    const p = doc.encryption!.permissions;
    expect({
      print: p.print, printHighQuality: p.printHighQuality, modify: p.modify, copy: p.copy, annotate: p.annotate,
      fillForms: p.fillForms, assemble: p.assemble, extractForAccessibility: p.extractForAccessibility,
    }).toEqual({
      print: c['printlow'], printHighQuality: c['printhigh'], modify: c['modifyother'], copy: c['extract'],
      annotate: c['modifyannotations'], fillForms: c['modifyforms'], assemble: c['modifyassembly'],
      extractForAccessibility: c['accessibility'],
    }); // prettier-ignore
  });
});

describe('R6 passwords are SASLprepped UTF-8 (ISO 32000-2 §7.6.4.3.3, RFC 4013)', () => {
  it('a password typed decomposed or with compatibility characters opens a file whose password was normalised', async () => {
    // qpdf stores the UTF-8 it is given; it is given the SASLprep output.
    const file = await encryptWith(await fixture('simple'), 'utf8.pdf', ['Pässwörd IX', 'Ownér', '256']);
    expect((await qpdfView(file, 'Pässwörd IX')).encrypt.userpasswordmatched).toBe(true);
    for (const typed of ['Pässwörd IX', 'Pa\u0308sswo\u0308rd IX', 'Pässwörd\u00A0\u2168', 'Päss\u00ADwörd IX']) {
      expect((await open(file, typed)).encryption?.ownerAuthenticated, JSON.stringify(typed)).toBe(false);
    }
    expect((await open(file, 'Owne\u0301r')).encryption?.ownerAuthenticated).toBe(true);
    expect((await open(file, Buffer.from('Pässwörd IX', 'utf8'))).pageCount).toBe(1);
    await expect(open(file, 'Passwörd IX')).rejects.toThrow(/neither/);
  });

  it('a password some writer stored without SASLprep still opens as typed', async () => {
    const file = await encryptWith(await fixture('simple'), 'raw-nbsp.pdf', ['pass\u00A0word', 'o', '256']);
    expect((await open(file, 'pass\u00A0word')).pageCount).toBe(1);
  });
});

describe('security handlers seald does not implement', () => {
  it('the public-key handler is refused by name', async () => {
    const bytes = Buffer.from(await readFile(await variantFile(VARIANTS.find((v) => v.name === 'r6-empty-user')!)));
    const s = bytes.toString('latin1');
    // Same length, so every xref offset stays right.
    const forged = Buffer.from(s.replace('/Filter /Standard', '/Filter /PubSecXX'), 'latin1');
    expect(forged.length).toBe(bytes.length);
    expect(forged.equals(bytes)).toBe(false);
    const e = refusal(() => PdfDocument.open(bufferSource(forged)));
    expect(e.code).toBe('PDF_ENCRYPTED');
    expect(e.message).toMatch(/\/PubSecXX/);
  });
});
