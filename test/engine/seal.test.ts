/**
 * engine.sealDocument on the real SoftHSM token of the embedded defaults, without gRPC: the digest it signs, the
 * refusals that must happen before the token is asked for anything, and cancellation.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/provision/load-config.ts';
import { TokenPool } from '../../src/pool/pool.ts';
import { certificatePublicKeyInfo, pemToDer } from '../../src/crypto/certificate.ts';
import { issueEndEntityCertificate } from '../../src/crypto/dev-ca.ts';
import type { Signer } from '../../src/crypto/signer.ts';
import { prepareSealImage } from '../../src/pdf/image.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { sealDocument, type SealMaterial } from '../../src/engine/seal.ts';
import { SealdError } from '../../src/errors.ts';
import { fixture } from '../fixtures/index.ts';
import { pdfsig } from '../support/tools.ts';
import { sealFiles } from '../provision/demo-seal-files.ts';

let dataDir: string;
let pool: TokenPool;
let orgChain: Uint8Array[];
let org: SealMaterial;
let signs = 0;

/** The pool's real signer, counting the signatures it is asked for (fault injection wraps the real thing). */
function counting(signer: Signer): Signer {
  return {
    certificates: signer.certificates,
    algorithm: signer.algorithm,
    signDigest(digest, signal) {
      signs++;
      return signer.signDigest(digest, signal);
    },
  };
}

function material(chain: Uint8Array[]): SealMaterial {
  return { ...org, signer: counting(pool.signer('org', chain)) };
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-engine-'));
  const logger = pino({ level: 'silent' });
  const config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
  pool = await TokenPool.open(config.pkcs11, logger);
  const seal = config.seals.find((s) => s.id === 'org')!;
  orgChain = pemToDer(fs.readFileSync(sealFiles(config, seal).certificates, 'utf8'));
  org = {
    id: 'org',
    signer: counting(pool.signer('org', orgChain)),
    image: prepareSealImage(fs.readFileSync(sealFiles(config, seal).image)),
    defaultWidth: 119,
    defaultHeight: 119,
  };
});

afterAll(async () => {
  await pool?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A certificate for the org key from the dev CA, valid only in the given window. */
async function orgCertificate(notBefore: Date, notAfter: Date): Promise<Uint8Array[]> {
  const key = fs.readFileSync(path.join(dataDir, 'ca', 'dev-ca.key.pem'), 'utf8');
  const privateKeyPkcs8 = Buffer.from(key.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  const certificate = await issueEndEntityCertificate({
    ca: { certificate: orgChain[1]!, privateKeyPkcs8 },
    subjectPublicKeyInfo: certificatePublicKeyInfo(orgChain[0]!),
    subject: { country: 'CN', organization: '示例商贸有限公司', commonName: 'expired seal' },
    validity: { notBefore, notAfter },
  });
  return [certificate, orgChain[1]!];
}

describe('sealDocument', () => {
  it('signs the SHA-256 of exactly the two byte ranges, whether it hashes the source or is handed the hash', async () => {
    const input = fs.readFileSync(await fixture('cjk-contract'));
    const preHashed = createHash('sha256').update(input);
    for (const sourceDigest of [undefined, preHashed]) {
      const out = await sealDocument(bufferSource(input), org, { page: 3, x: 200, y: 150 }, { sourceDigest });
      const whole = Buffer.concat([input, out.appended]);
      const [a, b, c, d] = out.byteRange;
      const expected = createHash('sha256').update(whole.subarray(a, a + b)).update(whole.subarray(c, c + d)).digest();
      expect(Buffer.from(out.documentDigest).equals(expected)).toBe(true);
      expect(out.revision).toBe(2);
      expect(out.pages).toEqual([3]);
    }
    // The caller's hash state is copied, not consumed: it can still be finished.
    expect(preHashed.digest('hex')).toBe(createHash('sha256').update(input).digest('hex'));
  });

  it('refuses an expired certificate before asking the token for anything', async () => {
    const input = fs.readFileSync(await fixture('simple'));
    const chain = await orgCertificate(new Date('2020-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z'));
    const before = signs;
    const err = await sealDocument(bufferSource(input), material(chain), { page: 1, x: 100, y: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SealdError);
    expect((err as SealdError).category).toBe('precondition');
    expect((err as SealdError).code).toBe('CERT_EXPIRED');
    expect((err as Error).message).toMatch(/expired on 2021-01-01/);
    expect(signs).toBe(before);
  });

  it('refuses a certificate that is not valid yet', async () => {
    const input = fs.readFileSync(await fixture('simple'));
    const now = Date.now();
    const chain = await orgCertificate(new Date(now + 86_400_000), new Date(now + 2 * 86_400_000));
    const err = await sealDocument(bufferSource(input), material(chain), { page: 1, x: 100, y: 100 }).catch((e: unknown) => e);
    expect((err as SealdError).code).toBe('CERT_NOT_YET_VALID');
  });

  it('refuses a field name the document already has, and picks a free one by default', async () => {
    const input = fs.readFileSync(await fixture('simple'));
    const first = await sealDocument(bufferSource(input), org, { page: 1, x: 100, y: 100 }, { fieldName: '乙方盖章' });
    const once = Buffer.concat([input, first.appended]);
    const err = await sealDocument(bufferSource(once), org, { page: 1, x: 300, y: 100 }, { fieldName: '乙方盖章' }).catch((e: unknown) => e);
    expect((err as SealdError).code).toBe('FIELD_EXISTS');
    const second = await sealDocument(bufferSource(once), org, { page: 1, x: 300, y: 100 });
    expect(second.fieldName).toBe('Seal1');
    const file = path.join(dataDir, 'named.pdf');
    fs.writeFileSync(file, Buffer.concat([once, second.appended]));
    const report = await pdfsig(file);
    expect(report.signatures.map((s) => s.fieldName)).toEqual(['乙方盖章', 'Seal1']);
    expect(report.signatures.every((s) => s.signatureValid)).toBe(true);
  });

  it('a cancelled seal stops before the token signs', async () => {
    const input = fs.readFileSync(await fixture('simple'));
    const controller = new AbortController();
    controller.abort();
    const before = signs;
    const err = await sealDocument(bufferSource(input), org, { page: 1, x: 100, y: 100 }, { signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect((err as SealdError).category).toBe('cancelled');
    expect(signs).toBe(before);
  });
});
