/**
 * A real seal (SoftHSM token of the embedded defaults, engine.sealDocument and its output check) on repaired files:
 * pdfsig must find the signature valid and qpdf --check the output clean, with the damaged original as exact prefix.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/server/bootstrap.ts';
import { TokenPool } from '../../src/pool/pool.ts';
import { pemToDer } from '../../src/crypto/certificate.ts';
import { prepareSealImage } from '../../src/pdf/image.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { PdfDocument } from '../../src/pdf/document.ts';
import type { SealMaterial } from '../../src/engine/seal.ts';
import { checkedSealDocument } from '../../src/engine/output-check.ts';
import { fixture, type FixtureName } from '../fixtures/index.ts';
import { pdfsig, qpdfCheck } from '../support/tools.ts';
import * as damage from './damaged-fixtures.ts';
import { sealFiles } from '../provision/demo-seal-files.ts';

let dataDir: string;
let pool: TokenPool;
let org: SealMaterial;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-recovery-seal-'));
  const logger = pino({ level: 'silent' });
  const config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
  pool = await TokenPool.open(config.pkcs11, logger);
  const seal = config.seals.find((s) => s.id === 'org')!;
  const chain = pemToDer(fs.readFileSync(sealFiles(config, seal).certificates, 'utf8'));
  org = {
    id: 'org',
    signer: pool.signer('org', chain),
    image: prepareSealImage(fs.readFileSync(sealFiles(config, seal).image)),
    defaultWidth: 119,
    defaultHeight: 119,
  };
});

afterAll(async () => {
  await pool?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const cases: [string, FixtureName, (b: Buffer) => Buffer, 'with /Prev' | 'no /Prev'][] = [
  ['startxref missing', 'cjk-contract', damage.noStartxref, 'no /Prev'],
  ['entries of two objects swapped', 'simple', (b) => damage.entriesSwapped(b, 2, 7), 'with /Prev'],
  ['xref stream data broken', 'xref-stream', damage.xrefStreamBroken, 'no /Prev'],
  ['junk before %PDF and LF→CRLF', 'simple', (b) => damage.junkPrefix(damage.lfToCrlf(b)), 'no /Prev'],
];

describe('sealing a repaired file', () => {
  for (const [name, source, make, prev] of cases) {
    it(`${name}: pdfsig finds the seal valid, qpdf --check finds the output clean (${prev})`, async () => {
      const input = make(fs.readFileSync(await fixture(source)));
      const repaired = PdfDocument.open(bufferSource(input));
      repaired.page(1);
      repaired.repairBeforeUpdate();
      expect(repaired.repaired).toBeDefined();
      const out = await checkedSealDocument(bufferSource(input), org, { page: 1, x: 100, y: 100 });
      const tail = Buffer.from(out.appended).toString('latin1');
      expect(tail.includes('/Prev')).toBe(prev === 'with /Prev');
      const file = path.join(dataDir, `${name.replace(/\W+/g, '-')}.pdf`);
      fs.writeFileSync(file, Buffer.concat([input, out.appended]));
      const check = await qpdfCheck(file);
      expect(check.ok, check.output).toBe(true);
      const report = await pdfsig(file);
      expect(report.signatures).toHaveLength(1);
      expect(report.signatures[0]!.signatureValid).toBe(true);
    });
  }
});
