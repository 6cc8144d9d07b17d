/**
 * `seald admin`: operator tools.
 *
 * `seald admin seal-image` draws a seal image offline for an operator who has none yet (src/provision/seal-image.ts):
 * the organisation's name in real CJK glyphs along the arc, the star, the seal code along the lower arc (公章 and the
 * special-purpose seals), or a square name seal. Written as SVG (what seald draws as vector paths in the appearance:
 * the smallest seal, sharp at any resolution) or PNG (rendered by resvg), by the output's extension.
 *
 * `write-certificate` and `write-image` put a seal's material on its token, so the seal can be configured by its key
 * alone (issue 22):
 *
 *   seald admin write-certificate --config seald.yaml --key org --chain org.chain.pem
 *   seald admin write-image       --config seald.yaml --key org --image org.png
 *
 * The module, its environment, the token and its PIN come from the configuration's pkcs11 section (the first token,
 * or --token LABEL); the PIN is never read from the command line. Objects written: see src/pool/token-objects.ts.
 * The one cli command besides `serve` that loads the PKCS#11 pool layer (test/architecture/layers.test.ts).
 */
import * as fs from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { pemToDer } from '../../crypto/certificate.ts';
import { loadConfig } from '../../config/config.ts';
import { resolvePin } from '../../pool/config.ts';
import { writeCertificateChain, writeSealImage } from '../../pool/token-objects.ts';
import { renderSealPng, SEAL_KINDS, sealImageSvg, type SealImageKind } from '../../provision/seal-image.ts';
import { UsageError, type CliIo } from '../io.ts';

export async function adminCommand(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'seal-image') return sealImageCommand(rest, io);
  if (action !== 'write-certificate' && action !== 'write-image') {
    throw new UsageError(action === undefined ? 'name a subcommand: seal-image, write-certificate or write-image' : `unknown subcommand "${action}": expected seal-image, write-certificate or write-image`, 'admin');
  }
  const { values } = parseArgs({
    args: rest,
    options: { config: { type: 'string' }, token: { type: 'string' }, key: { type: 'string' }, chain: { type: 'string' }, image: { type: 'string' } },
  });
  const configPath = values.config ?? (io.env.SEALD_CONFIG || undefined);
  if (configPath === undefined) throw new UsageError('--config FILE is required (its pkcs11 section names the module, token and PIN)', 'admin');
  if (values.key === undefined || values.key === '') throw new UsageError('--key LABEL is required (the CKA_LABEL of the seal key)', 'admin');
  const config = await loadConfig({ flags: { config: configPath }, env: { SEALD_CONFIG: '' } });
  const token = values.token === undefined ? config.pkcs11.tokens[0] : config.pkcs11.tokens.find((t) => t.label === values.token);
  if (token?.label === undefined) throw new UsageError(`no token ${values.token === undefined ? 'with a label' : `labelled "${values.token}"`} in ${config.configPath}`, 'admin');
  const pin = resolvePin(token.pin);
  const opts = { env: config.pkcs11.env, logger: pino({ level: 'warn' }) };
  if (action === 'write-certificate') {
    if (values.chain === undefined) throw new UsageError('--chain FILE (PEM, signing certificate first) is required', 'admin');
    const chain = pemToDer(readInput(values.chain, 'utf8'));
    if (chain.length === 0) throw new UsageError(`no PEM certificate in ${values.chain}`, 'admin');
    writeCertificateChain(config.pkcs11.module, token.label, pin, values.key, chain, opts);
    io.stdout(`wrote ${chain.length} certificate${chain.length === 1 ? '' : 's'} for key "${values.key}" on token "${token.label}"\n`);
  } else {
    if (values.image === undefined) throw new UsageError('--image FILE (PNG) is required', 'admin');
    const png = new Uint8Array(readInput(values.image));
    writeSealImage(config.pkcs11.module, token.label, pin, values.key, png, opts);
    io.stdout(`wrote the seal image (${png.byteLength} bytes) for key "${values.key}" on token "${token.label}"\n`);
  }
  return 0;
}

function readInput(file: string): Buffer;
function readInput(file: string, encoding: 'utf8'): string;
function readInput(file: string, encoding?: 'utf8'): string | Buffer {
  try {
    return encoding === undefined ? fs.readFileSync(file) : fs.readFileSync(file, encoding);
  } catch {
    throw new UsageError(`cannot read ${file}`, 'admin');
  }
}

async function sealImageCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
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
  // The config's spelling (legal_representative) is accepted too.
  const kind = values.kind.replace(/_/g, '-');
  if (!(SEAL_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`--kind: expected ${SEAL_KINDS.join(', ')}, got "${values.kind}"`, 'admin');
  }
  const format = extname(values.output).toLowerCase();
  if (format !== '.svg' && format !== '.png') throw new UsageError('-o: the file name must end in .svg or .png', 'admin');
  const size = Number(values.size);
  if (!Number.isInteger(size) || size < 32 || size > 4096) throw new UsageError(`--size: expected 32 to 4096 pixels, got "${values.size}"`, 'admin');
  const svg = sealImageSvg({
    name: values.name,
    kind: kind as SealImageKind,
    ...(values.code === undefined ? {} : { code: values.code }),
    ...(values.font === undefined ? {} : { font: values.font }),
  });
  await writeFile(values.output, format === '.svg' ? svg : renderSealPng(svg, size));
  io.stdout(`wrote ${values.output}\n`);
  return 0;
}
