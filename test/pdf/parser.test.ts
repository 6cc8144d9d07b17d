import { describe, expect, it } from 'vitest';
import { ByteReader, Parser } from '../../src/pdf/parser.ts';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString } from '../../src/pdf/objects.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { ByteSink } from '../../src/pdf/serialize.ts';
import { SealdError } from '../../src/errors.ts';

function parse(text: string | Uint8Array) {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  return new Parser(new ByteReader(bufferSource(bytes))).parseObject();
}

function write(obj: Parameters<ByteSink['object']>[0]): string {
  const sink = new ByteSink();
  sink.object(obj);
  return sink.concat().toString('latin1');
}

describe('PDF object parser (ISO 32000-1 §7.3)', () => {
  it('reads numbers, booleans, null and references', () => {
    expect(parse('42')).toBe(42);
    expect(parse('-3.5')).toBe(-3.5);
    expect(parse('.25')).toBe(0.25);
    expect(parse('true')).toBe(true);
    expect(parse('null')).toBe(null);
    const ref = parse('12 0 R');
    expect(ref).toBeInstanceOf(PdfRef);
    expect((ref as PdfRef).num).toBe(12);
    // Two integers not followed by R stay two numbers.
    expect(parse('[1 2 3]')).toEqual([1, 2, 3]);
    expect(parse('[1 0 R 2]')).toEqual([new PdfRef(1, 0), 2]);
  });

  it('decodes names with #xx escapes and literal strings with escapes and nesting', () => {
    expect(parse('/A#20B')).toBe(PdfName.of('A B'));
    const s = parse('(a\\(b\\) (nested) \\101\\n\\\r\nend)') as PdfString;
    expect(Buffer.from(s.bytes).toString('latin1')).toBe('a(b) (nested) A\nend');
    const h = parse('<4E6F 7>') as PdfString;
    expect(Buffer.from(h.bytes)).toEqual(Buffer.from([0x4e, 0x6f, 0x70]));
  });

  it('reads UTF-16BE text strings such as Chinese field values', () => {
    const s = PdfString.text('乙方（盖章）');
    expect(s.bytes[0]).toBe(0xfe);
    const again = parse(write(s)) as PdfString;
    expect(again.asText()).toBe('乙方（盖章）');
    expect(PdfString.text('Seal1').asText()).toBe('Seal1');
  });

  it('reads nested dictionaries and arrays, skipping comments', () => {
    const d = parse('<< /Type /Page % a comment\n /Kids [1 0 R << /X (y) >>] /Rect [0 0 612.5 792] >>') as PdfDict;
    expect(d.name('Type')).toBe('Page');
    expect(d.get('Rect')).toEqual([0, 0, 612.5, 792]);
    expect(((d.get('Kids') as unknown[])[1] as PdfDict).get('X')).toBeInstanceOf(PdfString);
  });

  it('round-trips what it writes', () => {
    const d = new PdfDict()
      .set('A', PdfName.of('Name With Space'))
      .set('B', [1, -2.5, 0.000001, new PdfRef(3, 0)])
      .set('C', new PdfString(Buffer.from('(paren) \\ back')))
      .set('D', new PdfString(Buffer.from([0, 1, 255])))
      .set('E', null)
      .set('F', false);
    const again = parse(write(d)) as PdfDict;
    expect(again.get('A')).toBe(PdfName.of('Name With Space'));
    expect(again.get('B')).toEqual([1, -2.5, 0.000001, new PdfRef(3, 0)]);
    expect(Buffer.from((again.get('C') as PdfString).bytes).toString()).toBe('(paren) \\ back');
    expect(Buffer.from((again.get('D') as PdfString).bytes)).toEqual(Buffer.from([0, 1, 255]));
    expect(again.get('E')).toBe(null);
    expect(again.get('F')).toBe(false);
  });

  it('reads a stream lazily with an indirect /Length', () => {
    const text = '5 0 obj\n<< /Length 6 0 R >>\nstream\nHELLO\nendstream\nendobj\n';
    const p = new Parser(new ByteReader(bufferSource(Buffer.from(text, 'latin1'))));
    const { num, value } = p.parseIndirectObject({ num: 5, gen: 0 }, () => 5);
    expect(num).toBe(5);
    expect(value).toBeInstanceOf(PdfStream);
    expect(Buffer.from((value as PdfStream).encoded()).toString()).toBe('HELLO');
  });

  it('refuses malformed input with a PDF_MALFORMED error instead of looping or crashing', () => {
    for (const bad of ['<< /A 1', '[1 2', '(unterminated', '<< 1 2 >>', '<zz>', '}']) {
      expect(() => parse(bad), bad).toThrowError(SealdError);
    }
    // Hostile nesting depth is bounded.
    expect(() => parse('['.repeat(10_000))).toThrowError(/nested deeper/);
  });
});
