import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Certificate, pemToDer } from '../../src/crypto/certificate.ts';
import { ecdsa_with_SHA256 } from '../../src/crypto/oids.ts';
import { id_sm2sign_with_sm3 } from '../../src/crypto/oids-gm.ts';
import { sm2p256v1 } from '../../src/crypto/sm2-curve.ts';
import { encodeSm2Signature } from '../../src/crypto/sm2-encoding.ts';
import { SM2_DEFAULT_ID } from '../../src/crypto/sm2-signature.ts';
import { openssl, opensslOk } from './openssl.ts';
import { signSm2, sm2PrivateKeyFromDer } from './sm2-signing.ts';

/**
 * SM2 CA and leaf certificates made by the openssl CLI (OpenSSL 3.0: `genpkey -algorithm SM2` keys; `req -newkey ec
 * -pkeyopt ec_paramgen_curve:SM2` makes an EC-typed key on which `-sigopt distid:` is refused).
 */
/** The one certificate model's signature check (src/crypto/certificate.ts), on DER as the tests hold it. */
function verifySignedBy(certificate: Uint8Array, issuer: Uint8Array, id?: string): boolean {
  return Certificate.from(certificate).verifySignedBy(Certificate.from(issuer), id);
}

describe('SM2 certificate signatures', () => {
  let dir: string;
  const path = (name: string) => join(dir, name);
  const der = async (name: string) => pemToDer(await readFile(path(name), 'utf8'))[0]!;
  let ca: Uint8Array;
  let otherCa: Uint8Array;
  let leaf: Uint8Array;
  let leafOtherId: Uint8Array;
  let leafNoId: Uint8Array;
  let p256Ca: Uint8Array;

  async function makeCa(name: string, keygen: string[], signOptions: string[]): Promise<void> {
    await opensslOk(['genpkey', ...keygen, '-out', path(`${name}.key`)]);
    await opensslOk(['req', '-x509', '-key', path(`${name}.key`), ...signOptions, '-out', path(`${name}.pem`),
      '-subj', `/CN=${name}/O=seald test`, '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE']);
  }
  async function makeLeaf(name: string, issuer: string, signOptions: string[]): Promise<void> {
    await opensslOk(['genpkey', '-algorithm', 'SM2', '-out', path(`${name}.key`)]);
    await opensslOk(['req', '-new', '-key', path(`${name}.key`), '-sm3', '-sigopt', `distid:${SM2_DEFAULT_ID}`,
      '-subj', `/CN=${name}/O=seald test`, '-out', path(`${name}.csr`)]);
    await opensslOk(['x509', '-req', '-in', path(`${name}.csr`), '-CA', path(`${issuer}.pem`), '-CAkey', path(`${issuer}.key`),
      ...signOptions, '-vfyopt', `distid:${SM2_DEFAULT_ID}`, '-set_serial', '7', '-days', '10', '-out', path(`${name}.pem`)]);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seald-sm2-cert-'));
    const sm3Default = ['-sm3', '-sigopt', `distid:${SM2_DEFAULT_ID}`];
    await makeCa('ca', ['-algorithm', 'SM2'], sm3Default);
    await makeCa('other-ca', ['-algorithm', 'SM2'], sm3Default);
    await makeCa('p256-ca', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], ['-sha256']);
    await makeLeaf('leaf', 'ca', sm3Default);
    await makeLeaf('leaf-other-id', 'ca', ['-sm3', '-sigopt', 'distid:ALICE123@YAHOO.COM']);
    await makeLeaf('leaf-no-id', 'ca', ['-sm3']);
    [ca, otherCa, p256Ca, leaf, leafOtherId, leafNoId] = await Promise.all(
      ['ca.pem', 'other-ca.pem', 'p256-ca.pem', 'leaf.pem', 'leaf-other-id.pem', 'leaf-no-id.pem'].map(der),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('openssl itself accepts the leaf under the CA with the default ID (the fixture is sound)', async () => {
    const result = await openssl(['verify', '-CAfile', path('ca.pem'), '-vfyopt', `distid:${SM2_DEFAULT_ID}`, path('leaf.pem')]);
    expect(result.stdout).toContain('leaf.pem: OK');
  });

  it('verifies the leaf under its CA and the CA under itself', () => {
    expect(verifySignedBy(leaf, ca)).toBe(true);
    expect(verifySignedBy(ca, ca)).toBe(true);
  });

  it('refuses the leaf under another SM2 CA, and the CA under the leaf', () => {
    expect(verifySignedBy(leaf, otherCa)).toBe(false);
    expect(verifySignedBy(ca, leaf)).toBe(false);
  });

  it('refuses a leaf whose tbsCertificate was altered after signing', () => {
    const tampered = new Uint8Array(leaf);
    const at = Buffer.from(tampered).indexOf(Buffer.from('leaf')); // the subject's CN, inside tbsCertificate
    expect(at).toBeGreaterThan(0);
    tampered[at] = 'L'.charCodeAt(0);
    expect(verifySignedBy(tampered, ca)).toBe(false);
  });

  it('verifies a certificate signed under another ID only when told that ID', () => {
    expect(verifySignedBy(leafOtherId, ca)).toBe(false);
    expect(verifySignedBy(leafOtherId, ca, 'ALICE123@YAHOO.COM')).toBe(true);
    expect(verifySignedBy(leaf, ca, 'ALICE123@YAHOO.COM')).toBe(false);
  });

  it('OpenSSL 3.0 without -sigopt distid signs certificates with an empty ID, not the GM/T 0009 default', () => {
    // Recorded because such certificates exist: they verify under id '' only.
    expect(verifySignedBy(leafNoId, ca)).toBe(false);
    expect(verifySignedBy(leafNoId, ca, '')).toBe(true);
  });

  it('refuses a correctly signed certificate whose tbsCertificate.signature names another algorithm (RFC 5280 §4.1.1.2)', async () => {
    const caKey = sm2PrivateKeyFromDer((await opensslOk(['pkey', '-in', path('ca.key'), '-outform', 'DER'])).stdoutBytes);
    const resign = (innerAlgorithm: string): Uint8Array => {
      const cert = pkijs.Certificate.fromBER(new Uint8Array(leaf));
      cert.signature = new pkijs.AlgorithmIdentifier({ algorithmId: innerAlgorithm });
      const tbs = new Uint8Array(cert.encodeTBS().toBER());
      cert.tbsView = tbs;
      const signature = encodeSm2Signature(signSm2(sm2p256v1, caKey, tbs));
      cert.signatureValue = new asn1js.BitString({ valueHex: signature });
      return new Uint8Array(cert.toSchema().toBER());
    };
    expect(verifySignedBy(resign(id_sm2sign_with_sm3), ca)).toBe(true); // the re-signing is sound
    expect(verifySignedBy(resign(ecdsa_with_SHA256), ca)).toBe(false);
  });

  it('dispatches by algorithm: a P-256 certificate verifies through Node under itself, not under an SM2 CA; an SM2 leaf not under a P-256 CA', () => {
    expect(verifySignedBy(p256Ca, p256Ca)).toBe(true);
    expect(verifySignedBy(p256Ca, ca)).toBe(false);
    expect(verifySignedBy(leaf, p256Ca)).toBe(false);
  });

  it('path validation sees the same: the leaf is issued by its CA (names and signature), not by the other CA', () => {
    expect(Certificate.from(leaf).isIssuedBy(Certificate.from(ca))).toBe(true);
    expect(Certificate.from(leaf).isIssuedBy(Certificate.from(otherCa))).toBe(false);
  });
});
