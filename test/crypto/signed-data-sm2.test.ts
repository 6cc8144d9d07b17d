import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sm2p256v1 } from '../../src/crypto/sm2-curve.ts';
import { encodeSm2Signature } from '../../src/crypto/sm2-encoding.ts';
import { id_ecPublicKey, ecdsa_with_SHA256 } from '../../src/crypto/oids.ts';
import { id_gmt0010_data, id_gmt0010_signedData, id_sm2, id_sm2sign, id_sm2sign_with_sm3 } from '../../src/crypto/oids-gm.ts';
import { checkCms, digestRanges, parseCms, sm2ContentHash, type ParsedCms } from '../../src/crypto/signed-data.ts';
import { sm3 } from '../../src/crypto/sm3.ts';
import { evaluateTrust } from '../../src/crypto/trust.ts';
import { openssl } from './openssl.ts';
import { buildSm2Cms, makeSm2Pki, type Sm2CmsOptions, type Sm2Party, type Sm2Pki } from './sm2-cms.ts';
import { signSm2 } from './sm2-signing.ts';

/** An SM2-with-SM3 CRL (RFC 5280 §5) by `issuer`, listing `revoked` as revoked an hour ago. */
function sm2Crl(issuer: Sm2Party, revoked: Uint8Array[]): Uint8Array {
  const algorithm = new pkijs.AlgorithmIdentifier({ algorithmId: id_sm2sign_with_sm3 });
  const hourAgo = new Date(Date.now() - 3_600_000);
  const crl = new pkijs.CertificateRevocationList({
    version: 1,
    signature: algorithm,
    issuer: pkijs.Certificate.fromBER(new Uint8Array(issuer.certificate)).subject,
    thisUpdate: new pkijs.Time({ type: 0, value: hourAgo }),
    revokedCertificates: revoked.map((der) => new pkijs.RevokedCertificate({
      userCertificate: pkijs.Certificate.fromBER(new Uint8Array(der)).serialNumber,
      revocationDate: new pkijs.Time({ type: 0, value: hourAgo }),
    })),
  });
  crl.signatureAlgorithm = algorithm;
  crl.tbsView = new Uint8Array((crl.toSchema(true) as asn1js.Sequence).valueBlock.value[0]!.toBER()); // tbsCertList
  crl.signatureValue = new asn1js.BitString({ valueHex: encodeSm2Signature(signSm2(sm2p256v1, issuer.privateKey, crl.tbsView)) });
  return new Uint8Array(crl.toSchema().toBER());
}

/** SM2/SM3 SignedData (GM/T 0010-2012, GB/T 35275-2017) through the verifier's CMS reader and path validation. */
describe('SM2 CMS SignedData', () => {
  let pki: Sm2Pki;
  const content = new TextEncoder().encode('%PDF-1.7 the signed byte ranges of a contract');

  beforeAll(async () => {
    pki = await makeSm2Pki();
  });
  afterAll(() => pki.close());

  function parsed(der: Uint8Array): ParsedCms {
    const result = parseCms(der);
    if (!result.ok) throw new Error(result.reason);
    return result.cms;
  }
  function check(options: Partial<Sm2CmsOptions> = {}, signed: Uint8Array = content) {
    const cms = parsed(buildSm2Cms({ digest: sm3(content), signer: pki.signer, ...options }));
    return checkCms(cms, sm3(signed), 'adbe.pkcs7.detached');
  }

  it('reads and verifies an SM2-with-SM3 signature over SM3 signed attributes', () => {
    const cms = parsed(buildSm2Cms({ digest: sm3(content), signer: pki.signer }));
    expect(cms.digestAlgorithm).toBe('SM3');
    expect(cms.digestNode).toBe('sm3');
    expect(cms.signatureAlgorithm).toBe('SM2-with-SM3');
    expect(cms.signerCertificate).toEqual(pki.signer.certificate);
    expect(checkCms(cms, sm3(content), 'adbe.pkcs7.detached')).toEqual({ integrity: 'INTACT' });
  });

  it('builds a SignedData that OpenSSL verifies (with the empty ID OpenSSL 3.0 uses), which seald refuses', async () => {
    // An independent check of the fixture's structure: OpenSSL 3.0's CMS computes ZA with an empty identity, not
    // GM/T 0009's default; GM/T 0010 signatures use the default, so seald reads the empty-ID one as BAD_SIGNATURE.
    const der = buildSm2Cms({ digest: sm3(content), signer: pki.signer, id: '' });
    const dir = await mkdtemp(join(tmpdir(), 'seald-sm2-openssl-'));
    const base = join(dir, 'sig');
    await writeFile(`${base}.p7s`, der);
    await writeFile(`${base}.bin`, content);
    const result = await openssl(['cms', '-verify', '-noverify', '-binary', '-inform', 'DER', '-in', `${base}.p7s`, '-content', `${base}.bin`, '-out', `${base}.out`]);
    await rm(dir, { recursive: true, force: true });
    expect(result.stderr).toContain('Verification successful');
    expect(checkCms(parsed(der), sm3(content), undefined).integrity).toBe('BAD_SIGNATURE');
  });

  it('digests byte ranges with SM3', async () => {
    const chunks = async function* (start: number, end: number) {
      yield content.subarray(start, end);
    };
    expect(await digestRanges(chunks, [[0, 10], [10, content.length - 10]], 'sm3')).toEqual(new Uint8Array(sm3(content)));
  });

  it("accepts GM/T 0010's own content types for signedData and data", () => {
    expect(check({ signedDataType: id_gmt0010_signedData, dataType: id_gmt0010_data })).toEqual({ integrity: 'INTACT' });
  });

  it.each([
    ['sm2sign', id_sm2sign],
    ['the SM2 key OID', id_sm2],
    ['id-ecPublicKey', id_ecPublicKey],
    ['ecdsa-with-SHA256', ecdsa_with_SHA256],
  ])('reads signatureAlgorithm %s with an SM2 signer key as SM2-with-SM3', (_, signatureAlgorithm) => {
    const cms = parsed(buildSm2Cms({ digest: sm3(content), signer: pki.signer, signatureAlgorithm }));
    expect(cms.signatureAlgorithm).toBe('SM2-with-SM3');
    expect(checkCms(cms, sm3(content), 'adbe.pkcs7.detached')).toEqual({ integrity: 'INTACT' });
  });

  it('checks signing-certificate-v2 against the SM2 signer', () => {
    expect(check({ signingCertificate: pki.signer.certificate })).toEqual({ integrity: 'INTACT' });
    expect(check({ signingCertificate: pki.other.certificate }).integrity).toBe('SIGNER_CERT_MISMATCH');
  });

  it('reports changed content as DIGEST_MISMATCH', () => {
    const changed = Uint8Array.from(content);
    changed[3]! ^= 1;
    expect(check({}, changed).integrity).toBe('DIGEST_MISMATCH');
  });

  it('reports a changed signature, or one by another key, as BAD_SIGNATURE', () => {
    const der = buildSm2Cms({ digest: sm3(content), signer: pki.signer });
    der[der.length - 1]! ^= 1; // the last octet of s: still a well-formed SM2Signature
    expect(checkCms(parsed(der), sm3(content), undefined).integrity).toBe('BAD_SIGNATURE');
    const forged = { certificate: pki.signer.certificate, privateKey: pki.other.privateKey };
    expect(check({ signer: forged }).integrity).toBe('BAD_SIGNATURE');
  });

  it('verifies an SM2 signature over the content itself when there are no signed attributes (GM/T 0010)', async () => {
    const chunksOf = (bytes: Uint8Array) => async function* (start: number, end: number) {
      yield bytes.subarray(start, end);
    };
    const cms = parsed(buildSm2Cms({ digest: new Uint8Array(32), signer: pki.signer, signedContent: content }));
    expect(cms.signedAttrs).toBeUndefined();
    const ranges: [number, number][] = [[0, 7], [7, content.length - 7]];
    const e = await sm2ContentHash(cms, chunksOf(content), ranges);
    expect(checkCms(cms, sm3(content), 'adbe.pkcs7.detached', undefined, e)).toEqual({ integrity: 'INTACT' });
    const changed = Uint8Array.from(content);
    changed[3]! ^= 1;
    const eChanged = await sm2ContentHash(cms, chunksOf(changed), ranges);
    expect(checkCms(cms, sm3(changed), 'adbe.pkcs7.detached', undefined, eChanged).integrity).toBe('BAD_SIGNATURE');
    // without the content hash (a caller that does not stream the content) it stays UNSUPPORTED
    expect(checkCms(cms, sm3(content), 'adbe.pkcs7.detached').integrity).toBe('UNSUPPORTED');
    // a CMS with signed attributes needs no second pass
    expect(await sm2ContentHash(parsed(buildSm2Cms({ digest: sm3(content), signer: pki.signer })), chunksOf(content), ranges)).toBeUndefined();
  });

  it("reports a CMS without the signer's certificate as SIGNER_CERT_MISMATCH", () => {
    expect(check({ certificates: [pki.other.certificate] }).integrity).toBe('SIGNER_CERT_MISMATCH');
  });

  it('validates the SM2 chain: trusted under the SM2 CA, untrusted under an impostor CA of the same name', () => {
    const input = { signer: pki.signer.certificate, pool: [], crls: [], ocsps: [], at: new Date(), timeProven: false };
    const trusted = evaluateTrust({ ...input, anchors: [pki.ca] });
    expect(trusted.trust).toBe('TRUSTED');
    expect(trusted.anchor).toContain('SM2 CA');
    expect(evaluateTrust({ ...input, anchors: [pki.otherCa] }).trust).toBe('UNTRUSTED');
    expect(evaluateTrust({ ...input, anchors: [] }).trust).toBe('UNTRUSTED');
    // the CA as an intermediate of the pool, under itself as anchor
    expect(evaluateTrust({ ...input, pool: [pki.ca], anchors: [pki.ca] }).trust).toBe('TRUSTED');
  });

  it('keeps the rest of path validation for SM2 chains: validity at the signing time', () => {
    const input = { signer: pki.signer.certificate, pool: [], crls: [], ocsps: [], anchors: [pki.ca], timeProven: false };
    expect(evaluateTrust({ ...input, at: new Date(Date.now() + 20 * 86_400_000) }).trust).toBe('EXPIRED');
    expect(evaluateTrust({ ...input, at: new Date(Date.now() - 86_400_000) }).trust).toBe('NOT_YET_VALID');
  });

  it('reads revocation from an SM2-signed CRL of the SM2 CA, and ignores one signed by another key', () => {
    const input = { signer: pki.signer.certificate, pool: [], anchors: [pki.ca], ocsps: [], at: new Date(), timeProven: false };
    expect(evaluateTrust({ ...input, crls: [sm2Crl(pki.caParty, [pki.signer.certificate])] }).trust).toBe('REVOKED');
    const good = evaluateTrust({ ...input, crls: [sm2Crl(pki.caParty, [pki.other.certificate])] });
    expect(good.trust).toBe('TRUSTED');
    expect(good.revocationSource).toBe('CRL');
    const forged = evaluateTrust({ ...input, crls: [sm2Crl({ certificate: pki.ca, privateKey: pki.other.privateKey }, [pki.signer.certificate])] });
    expect(forged.trust).toBe('TRUSTED');
    expect(forged.revocationSource).toBeUndefined();
  });

  it('refuses a signer (not a CA) as the issuer of another SM2 certificate', () => {
    const input = { signer: pki.other.certificate, pool: [pki.signer.certificate], crls: [], ocsps: [], at: new Date(), timeProven: false };
    expect(evaluateTrust({ ...input, anchors: [pki.signer.certificate] }).trust).toBe('UNTRUSTED');
  });
});
