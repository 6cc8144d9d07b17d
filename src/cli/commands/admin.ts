/**
 * `seald admin seal-image`: draw a seal image offline for an operator who has none yet (src/provision/seal-image.ts):
 * the organisation's name in real CJK glyphs along the arc, the star, the seal code along the lower arc (公章 and the
 * special-purpose seals), or a square name seal. Written as SVG (what seald draws as vector paths in the appearance:
 * the smallest seal, sharp at any resolution) or PNG (rendered by resvg), by the output's extension.
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { renderSealPng, SEAL_KINDS, sealImageSvg, type SealImageKind } from '../../provision/seal-image.ts';
import type { CliIo } from '../io.ts';
import { UsageError } from '../io.ts';

export async function adminCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'seal-image') throw new UsageError(sub === undefined ? 'name a subcommand: seal-image' : `unknown subcommand "${sub}"`, 'admin');
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      code: { type: 'string' },
      kind: { type: 'string', default: 'official' },
      font: { type: 'string' },
      size: { type: 'string', default: '600' },
      output: { type: 'string', short: 'o' },
    },
  });
  if (values.name === undefined || values.name.trim() === '') throw new UsageError('--name is required', 'admin');
  if (values.output === undefined) throw new UsageError('-o FILE is required (.svg or .png)', 'admin');
  if (!(SEAL_KINDS as readonly string[]).includes(values.kind)) {
    throw new UsageError(`--kind: expected ${SEAL_KINDS.join(', ')}, got "${values.kind}"`, 'admin');
  }
  const format = extname(values.output).toLowerCase();
  if (format !== '.svg' && format !== '.png') throw new UsageError('-o: the file name must end in .svg or .png', 'admin');
  const size = Number(values.size);
  if (!Number.isInteger(size) || size < 32 || size > 4096) throw new UsageError(`--size: expected 32 to 4096 pixels, got "${values.size}"`, 'admin');
  const svg = sealImageSvg({
    name: values.name,
    kind: values.kind as SealImageKind,
    ...(values.code === undefined ? {} : { code: values.code }),
    ...(values.font === undefined ? {} : { font: values.font }),
  });
  await writeFile(values.output, format === '.svg' ? svg : renderSealPng(svg, size));
  io.stdout(`wrote ${values.output}\n`);
  return 0;
}
