/**
 * The writer's byte sink (ISO 32000-1 §7.3): the exact bytes of each object kind, and the offsets of placeholders,
 * which the signature's /ByteRange is computed from (§12.8.1). Written out by hand, so a change to how the sink
 * gathers its bytes (session 9: one string for text instead of a Buffer per token) cannot change a byte unnoticed.
 */
import { describe, expect, it } from 'vitest';
import { PdfDict, PdfName, PdfRaw, PdfRef, PdfStream, PdfString } from '../../src/pdf/objects.ts';
import { ByteSink } from '../../src/pdf/serialize.ts';

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('ByteSink', () => {
  it('writes every object kind as §7.3 spells it, names escaped (§7.3.5) and strings literal or hex (§7.3.4)', () => {
    const sink = new ByteSink();
    sink.text('1 0 obj\n');
    sink.object(
      new PdfDict([
        ['Type', PdfName.of('Annot')],
        ['A#b c/d', PdfName.of('x(y)é')],
        ['N', [1, -0, 0.5, -2.25, 1 / 3, true, false, null]],
        ['R', new PdfRef(12, 0)],
        ['S', new PdfString(Buffer.from('a(b)\\c', 'latin1'))],
        ['H', new PdfString(Buffer.from([0xfe, 0xff, 0x4e, 0x2d]))],
        ['X', new PdfString(Buffer.from('hex'), true)],
        ['D', new PdfDict([['K', PdfName.of('V')]])],
      ]),
    );
    sink.text('\nendobj\n');
    expect(latin1(sink.concat())).toBe(
      '1 0 obj\n' +
        '<</Type /Annot\n' +
        '/A#23b#20c#2fd /x#28y#29#e9\n' +
        '/N [1 0 0.5 -2.25 0.333333 true false null]\n' +
        '/R 12 0 R\n' +
        '/S (a\\(b\\)\\\\c)\n' +
        '/H <feff4e2d>\n' +
        '/X <686578>\n' +
        '/D <</K /V\n>>\n' +
        '>>\nendobj\n',
    );
  });

  it('writes streams with their /Length and binary data as is, and reports where placeholders land', () => {
    const sink = new ByteSink();
    const data = new Uint8Array([0x00, 0xff, 0x0a, 0x80]);
    sink.text('2 0 obj\n');
    sink.object(new PdfStream(new PdfDict([['Filter', PdfName.of('FlateDecode')]]), data));
    sink.text('\nendobj\n3 0 obj\n');
    sink.object(new PdfDict([['Contents', new PdfRaw(Buffer.from('<0000>'), 'contents')], ['M', PdfName.of('é')]]));
    const bytes = sink.concat();
    const expected = Buffer.concat([
      Buffer.from('2 0 obj\n<</Filter /FlateDecode\n/Length 4\n>>\nstream\n', 'latin1'),
      data,
      Buffer.from('\nendstream\nendobj\n3 0 obj\n<</Contents <0000>\n/M /#e9\n>>', 'latin1'),
    ]);
    expect(Buffer.from(bytes).equals(expected)).toBe(true);
    expect(sink.length).toBe(expected.length);
    const at = sink.marks.get('contents')!;
    expect(latin1(bytes.subarray(at, at + 6))).toBe('<0000>');
  });
});
