/**
 * RFC 3161 time-stamp tokens with an SM3 messageImprint, signed by an SM2 TSA (GM/T 0033-2014): the token checks of
 * src/crypto/timestamp-token.ts, and the TSA's SM2 certificate chained by trust.ts; and a token with an SM3 imprint
 * made by `openssl ts -reply` (an ECDSA TSA), which `openssl ts -verify` accepts too.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemToDer } from '../../../src/crypto/certificate.ts';
import { opensslOk } from '../openssl.ts';
import { checkTimestampTokenOver, timestampImprintHash } from '../../../src/crypto/timestamp-token.ts';
import { evaluateTrust } from '../../../src/crypto/trust.ts';
import { sm3 } from '../../../src/crypto/sm3.ts';
import { makeSm2Pki, type Sm2Pki } from '../sm2-cms.ts';
import { makeSm2Tsa, type Sm2Tsa } from './sm2-tsa.ts';

describe('SM3 time-stamp imprints, SM2 TSA tokens', () => {
  let pki: Sm2Pki;
  let tsa: Sm2Tsa;
  const data = new TextEncoder().encode('a signature value');
  beforeAll(async () => {
    pki = await makeSm2Pki();
    tsa = await makeSm2Tsa(pki);
  });
  afterAll(async () => {
    await tsa?.close();
    await pki?.close();
  });

  it('verifies a token whose imprint is SM3 of the data, and chains its SM2 TSA to the SM2 CA', async () => {
    const genTime = new Date('2026-11-30T10:00:00Z');
    const der = tsa.stamp(data, { genTime });
    expect(timestampImprintHash(der)).toBe('sm3');
    const token = await checkTimestampTokenOver(der, data);
    expect(token.genTime.toISOString()).toBe(genTime.toISOString());
    expect(Buffer.from(token.tsaCertificate).equals(Buffer.from(tsa.party.certificate))).toBe(true);
    // the PDF path hashes the byte ranges itself and hands the digest over
    expect((await checkTimestampTokenOver(der, sm3(data), true)).genTime.getTime()).toBe(genTime.getTime());
    const trust = evaluateTrust({ signer: token.tsaCertificate, pool: token.certificates, anchors: [pki.ca], crls: [], ocsps: [], at: new Date(), timeProven: true });
    expect(trust.trust).toBe('TRUSTED');
  });

  it('refuses a token for other data (TSA_WRONG_IMPRINT), and one whose SM2 signature value was changed', async () => {
    await expect(checkTimestampTokenOver(tsa.stamp(new TextEncoder().encode('other')), data)).rejects.toMatchObject({ code: 'TSA_WRONG_IMPRINT' });
    const forged = Buffer.from(tsa.stamp(data));
    // The SM2 signature is the last OCTET STRING of the SignerInfo: flip a bit near the end of the token.
    forged[forged.length - 3]! ^= 0x01;
    await expect(checkTimestampTokenOver(forged, data)).rejects.toMatchObject({ code: 'TSA_BAD_TOKEN' });
  });

  it("verifies an SM3-imprint token made by openssl's TSA (openssl ts -query -sm3 / -reply), as openssl ts -verify does", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seald-sm3-ts-'));
    const file = (name: string) => join(dir, name);
    try {
      await opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('tsa.key'), '-out', file('tsa.pem'),
        '-subj', '/CN=SM3 imprint TSA', '-days', '2', '-addext', 'extendedKeyUsage=critical,timeStamping']);
      await writeFile(file('serial'), '01\n');
      await writeFile(file('ts.cnf'), `[ tsa_config ]\nserial = ${file('serial')}\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sm3, sha256\ness_cert_id_alg = sha256\n`);
      await writeFile(file('data.bin'), data);
      await opensslOk(['ts', '-query', '-data', file('data.bin'), '-sm3', '-cert', '-out', file('request.tsq')]);
      await opensslOk(['ts', '-reply', '-config', file('ts.cnf'), '-section', 'tsa_config', '-queryfile', file('request.tsq'),
        '-signer', file('tsa.pem'), '-inkey', file('tsa.key'), '-token_out', '-out', file('token.der')]);
      await opensslOk(['ts', '-verify', '-data', file('data.bin'), '-in', file('token.der'), '-token_in', '-CAfile', file('tsa.pem')]);
      const der = new Uint8Array(await readFile(file('token.der')));
      expect(timestampImprintHash(der)).toBe('sm3');
      const token = await checkTimestampTokenOver(der, data);
      const tsaCert = pemToDer(await readFile(file('tsa.pem'), 'utf8'))[0]!;
      expect(evaluateTrust({ signer: token.tsaCertificate, pool: token.certificates, anchors: [tsaCert], crls: [], ocsps: [], at: token.genTime, timeProven: true }).trust).toBe('TRUSTED');
      await expect(checkTimestampTokenOver(der, new TextEncoder().encode('not the data'))).rejects.toMatchObject({ code: 'TSA_WRONG_IMPRINT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
