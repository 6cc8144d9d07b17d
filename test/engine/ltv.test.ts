/**
 * Long-term validation on real parts: a seal by the SoftHSM org key under a dev-CA certificate that names an OCSP
 * responder and a CRL distribution point on 127.0.0.1, both answered by OpenSSL (test/support/test-revocation.ts);
 * then the DSS appended, checked by qpdf, pdfsig and seald's verifier — also once the responders are gone — and a
 * B-LTA document time-stamp checked by `openssl ts -verify`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/provision/load-config.ts';
import { TokenPool } from '../../src/pool/pool.ts';
import { certificatePublicKeyInfo, pemToDer } from '../../src/crypto/certificate.ts';
import { issueEndEntityCertificate } from '../../src/crypto/dev-ca.ts';
import { TsaClient } from '../../src/crypto/tsa-client.ts';
import { prepareSealImage } from '../../src/pdf/image.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { readDss } from '../../src/pdf/dss.ts';
import { PdfDocument } from '../../src/pdf/document.ts';
import { sealDocument, type SealMaterial } from '../../src/engine/seal.ts';
import { addValidationData } from '../../src/engine/ltv.ts';
import { verifyDocument } from '../../src/engine/verify/verify.ts';
import { SealdError } from '../../src/errors.ts';
import { fixture } from '../fixtures/index.ts';
import { extractSignatures, pdfsig, qpdfCheck } from '../support/tools.ts';
import { run } from '../support/run.ts';
import { startTestRevocation, type TestRevocation } from '../support/test-revocation.ts';
import { startTestTsa, type TestTsa } from '../support/test-tsa.ts';
import { sealFiles } from '../provision/demo-seal-files.ts';

let dir: string;
let pool: TokenPool;
let responder: TestRevocation;
let tsa: TestTsa;
let caDer: Uint8Array;
let caPem: string;
let org: SealMaterial;
let orgCertificate: Uint8Array;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-ltv-'));
  const logger = pino({ level: 'silent' });
  const config = await loadServerConfig({ dataDir: dir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
  pool = await TokenPool.open(config.pkcs11, logger);
  caPem = path.join(dir, 'ca', 'dev-ca.pem');
  const caKeyPem = path.join(dir, 'ca', 'dev-ca.key.pem');
  caDer = pemToDer(fs.readFileSync(caPem, 'utf8'))[0]!;
  responder = await startTestRevocation({ dir: path.join(dir, 'revocation'), ca: { certPem: caPem, keyPem: caKeyPem } });
  tsa = await startTestTsa({ dir: path.join(dir, 'tsa'), ca: { certPem: caPem, keyPem: caKeyPem } });
  const seal = config.seals.find((s) => s.id === 'org')!;
  const demoChain = pemToDer(fs.readFileSync(sealFiles(config, seal).certificates, 'utf8'));
  orgCertificate = await issueEndEntityCertificate({
    ca: { certificate: caDer, privateKeyPkcs8: Buffer.from(fs.readFileSync(caKeyPem, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64') },
    subjectPublicKeyInfo: certificatePublicKeyInfo(demoChain[0]!),
    subject: { country: 'CN', organization: '示例商贸有限公司', commonName: 'LTV test seal' },
    validity: { notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 86_400_000) },
    revocation: { ocspUrl: responder.ocspUrl, crlUrl: responder.crlUrl },
  });
  await responder.issue(orgCertificate);
  org = {
    id: 'org',
    signer: pool.signer('org', [orgCertificate, caDer]),
    image: prepareSealImage(fs.readFileSync(sealFiles(config, seal).image)),
    defaultWidth: 119,
    defaultHeight: 119,
  };
});

afterAll(async () => {
  await responder?.close();
  await tsa?.close();
  await pool?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function newOrgCertificate(commonName: string): Promise<Uint8Array> {
  const caKeyPem = path.join(dir, 'ca', 'dev-ca.key.pem');
  const der = await issueEndEntityCertificate({
    ca: { certificate: caDer, privateKeyPkcs8: Buffer.from(fs.readFileSync(caKeyPem, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64') },
    subjectPublicKeyInfo: certificatePublicKeyInfo(orgCertificate),
    subject: { country: 'CN', organization: '示例商贸有限公司', commonName },
    validity: { notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 86_400_000) },
    revocation: { ocspUrl: responder.ocspUrl, crlUrl: responder.crlUrl },
  });
  await responder.issue(der);
  return der;
}

async function sealed(): Promise<Buffer> {
  const input = fs.readFileSync(await fixture('cjk-contract'));
  const outcome = await sealDocument(bufferSource(input), org, { page: 1, x: 300, y: 300 });
  return Buffer.concat([input, outcome.appended]);
}

describe('addValidationData (PAdES B-LT, B-LTA)', () => {
  it('embeds the chain and an OCSP response; the document verifies VALID without the responders', async () => {
    const signed = await sealed();
    const before = responder.ocspRequests;
    const outcome = await addValidationData(bufferSource(signed), { anchors: [caDer], timeoutMs: 5000 });
    expect(responder.ocspRequests).toBe(before + 1);
    expect(outcome.added.ocsps).toBe(1);
    expect(outcome.added.certificates).toBeGreaterThanOrEqual(2);
    expect(outcome.withoutRevocationSource).toEqual([]);
    const output = Buffer.concat([signed, outcome.appended]);
    const file = path.join(dir, 'b-lt.pdf');
    fs.writeFileSync(file, output);
    expect((await qpdfCheck(file)).ok).toBe(true);
    expect((await pdfsig(file)).signatures[0]!.signatureValid).toBe(true);

    // The embedded OCSP response is a real one: openssl reads it and says "good".
    const [ocsp] = readDss(PdfDocument.open(bufferSource(output))).ocsps;
    fs.writeFileSync(path.join(dir, 'dss.ocsp'), ocsp!);
    const text = await run('openssl', ['ocsp', '-respin', path.join(dir, 'dss.ocsp'), '-resp_text', '-noverify']);
    expect(text.stdout.toString()).toMatch(/Cert Status: good/);

    // The responders are down: the verdict rests on the DSS alone.
    responder.behaviour = 'down';
    const report = await verifyDocument(bufferSource(output), { trustAnchors: [caDer] }).finally(() => {
      responder.behaviour = 'ok';
    });
    expect(report.verdict).toBe('VALID');
    expect(report.signatures[0]!.trust).toBe('TRUSTED');
    expect(report.signatures[0]!.changesAfter).toBe('ALLOWED');
    expect(report.signatures[0]!.reasons.join(' ')).toMatch(/not revoked according to the embedded OCSP/);
  });

  it('a revoked signer: the DSS says so and the verifier reports REVOKED', async () => {
    const signed = await sealed();
    await responder.revoke(orgCertificate, new Date(Date.now() - 60_000));
    const outcome = await addValidationData(bufferSource(signed), { anchors: [caDer], timeoutMs: 5000 });
    const report = await verifyDocument(bufferSource(Buffer.concat([signed, outcome.appended])), { trustAnchors: [caDer] });
    expect(report.signatures[0]!.trust).toBe('REVOKED');
    expect(report.verdict).not.toBe('VALID');
  });

  it('B-LTA: a document time-stamp over the document with its DSS, verified by openssl', async () => {
    const signed = await sealed();
    const timestamper = new TsaClient({ endpoints: [{ url: tsa.url }], timeoutMs: 5000 });
    const outcome = await addValidationData(bufferSource(signed), { anchors: [caDer], timeoutMs: 5000, timestamper });
    expect(outcome.timestampTime).toBeInstanceOf(Date);
    expect(outcome.signatures).toBe(1);
    const output = Buffer.concat([signed, outcome.appended]);
    const signatures = await extractSignatures(output);
    const dts = signatures.at(-1)!;
    expect(dts.subFilter).toBe('ETSI.RFC3161');
    expect(dts.coversWholeFile).toBe(true);
    fs.writeFileSync(path.join(dir, 'lta.tsr'), dts.cms);
    fs.writeFileSync(path.join(dir, 'lta.data'), dts.signedBytes);
    const verify = await run('openssl', [
      'ts', '-verify', '-data', path.join(dir, 'lta.data'), '-token_in', '-in', path.join(dir, 'lta.tsr'), '-CAfile', caPem, '-untrusted', tsa.certPem,
    ]); // prettier-ignore
    expect(verify.stdout.toString() + verify.stderr).toContain('Verification: OK');
  });

  it('a responder that is down fails the call with UNAVAILABLE and nothing to append', async () => {
    const signed = await sealed();
    responder.behaviour = 'down';
    try {
      const error = await addValidationData(bufferSource(signed), { anchors: [caDer], timeoutMs: 2000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SealdError);
      expect((error as SealdError).category).toBe('unavailable');
    } finally {
      responder.behaviour = 'ok';
    }
  });

  it('levels: B-B, then B-T from a signature time-stamp, B-LT with the DSS, B-LTA with a document time-stamp', async () => {
    const input = fs.readFileSync(await fixture('cjk-contract'));
    const timestamper = new TsaClient({ endpoints: [{ url: tsa.url }], timeoutMs: 5000 });
    // A fresh certificate: an earlier test revoked the shared one.
    const good = await newOrgCertificate('levels');
    const material = { ...org, signer: pool.signer('org', [good, caDer]) };
    const plain = Buffer.concat([input, (await sealDocument(bufferSource(input), material, { page: 1, x: 300, y: 300 })).appended]);
    const plainReport = await verifyDocument(bufferSource(plain), { trustAnchors: [caDer] });
    expect(plainReport.signatures[0]!.level).toBe('B-B');
    expect(plainReport.signatures[0]!.timestampTime).toBeNull();

    const bt = await sealDocument(bufferSource(input), material, { page: 1, x: 300, y: 300 }, { timestamper });
    const withT = Buffer.concat([input, bt.appended]);
    const tReport = await verifyDocument(bufferSource(withT), { trustAnchors: [caDer] });
    expect(tReport.verdict).toBe('VALID');
    expect(tReport.signatures[0]!.level).toBe('B-T');
    expect(tReport.signatures[0]!.timestampTime).toBe(bt.timestampTime!.toISOString());
    expect(tReport.signatures[0]!.reasons.join(' ')).not.toMatch(/no timestamp proves/);

    const lt = await addValidationData(bufferSource(withT), { anchors: [caDer], timeoutMs: 5000 });
    const withLt = Buffer.concat([withT, lt.appended]);
    expect((await verifyDocument(bufferSource(withLt), { trustAnchors: [caDer] })).signatures[0]!.level).toBe('B-LT');

    const lta = await addValidationData(bufferSource(withLt), { anchors: [caDer], timeoutMs: 5000, timestamper });
    // The seal and its B-T token's TSA: both chains gathered (the TSA's certificate names no responder).
    expect(lt.signatures).toBe(2);
    expect(lt.withoutRevocationSource).toEqual([expect.stringContaining('seald test TSA')]);
    const withLta = Buffer.concat([withLt, lta.appended]);
    const ltaReport = await verifyDocument(bufferSource(withLta), { trustAnchors: [caDer] });
    expect(ltaReport.verdict).toBe('VALID');
    expect(ltaReport.signatures.map((r) => [r.subFilter, r.level, r.verdict])).toEqual([
      ['ETSI.CAdES.detached', 'B-LTA', 'VALID'],
      ['ETSI.RFC3161', null, 'VALID'],
    ]);
    expect(ltaReport.signatures[1]!.timestampTime).toBe(lta.timestampTime!.toISOString());
    // Two days on, the seal's one-day certificate has expired: the time-stamp proves it was valid when used.
    const later = await verifyDocument(bufferSource(withLta), { trustAnchors: [caDer], now: new Date(Date.now() + 2 * 86_400_000) });
    expect(later.signatures[0]!.trust).toBe('TRUSTED');
    expect(later.verdict).toBe('VALID');

    // One changed byte in the range the document time-stamp covers: its token no longer matches.
    const tampered = Buffer.from(withLta);
    const at = withLt.length + 40; // inside the time-stamp revision, before its /Contents
    tampered[at] = tampered[at] === 0x20 ? 0x0a : 0x20;
    const broken = await verifyDocument(bufferSource(tampered), { trustAnchors: [caDer] });
    expect(broken.signatures.find((r) => r.subFilter === 'ETSI.RFC3161')!.integrity).toBe('DIGEST_MISMATCH');
    expect(broken.verdict).toBe('INVALID');
  });

  it('a certificate that names no responder: the configured OCSP responder answers, else it is reported', async () => {
    const caKeyPem = path.join(dir, 'ca', 'dev-ca.key.pem');
    const bare = await issueEndEntityCertificate({
      ca: { certificate: caDer, privateKeyPkcs8: Buffer.from(fs.readFileSync(caKeyPem, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64') },
      subjectPublicKeyInfo: certificatePublicKeyInfo(orgCertificate),
      subject: { country: 'CN', organization: '示例商贸有限公司', commonName: 'no AIA' },
      validity: { notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 86_400_000) },
    });
    await responder.issue(bare);
    const input = fs.readFileSync(await fixture('simple'));
    const material = { ...org, signer: pool.signer('org', [bare, caDer]) };
    const signed = Buffer.concat([input, (await sealDocument(bufferSource(input), material, { page: 1, x: 200, y: 200 })).appended]);

    const alone = await addValidationData(bufferSource(signed), { anchors: [caDer], timeoutMs: 5000 });
    expect(alone.added.ocsps).toBe(0);
    expect(alone.withoutRevocationSource).toEqual([expect.stringContaining('no AIA')]);

    const configured = await addValidationData(bufferSource(signed), { anchors: [caDer], timeoutMs: 5000, ocspResponder: responder.ocspUrl });
    expect(configured.added.ocsps).toBe(1);
    expect(configured.withoutRevocationSource).toEqual([]);
    const report = await verifyDocument(bufferSource(Buffer.concat([signed, configured.appended])), { trustAnchors: [caDer] });
    expect(report.signatures[0]!.level).toBe('B-B'); // revocation data, but no time-stamp: not B-LT
    expect(report.signatures[0]!.reasons.join(' ')).toMatch(/embedded OCSP/);
  });
});

