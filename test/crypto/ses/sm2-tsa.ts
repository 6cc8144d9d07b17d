/**
 * An SM2 time-stamping authority for tests (GM/T 0033-2014 keeps RFC 3161's structures): a TSA certificate issued
 * by the test SM2 CA with the critical id-kp-timeStamping usage (made by the openssl CLI), and tokens — a TSTInfo with
 * an SM3 messageImprint, encapsulated in an SM2-signed SignedData built by sm2-cms.ts (OpenSSL 3.0's `ts -reply`
 * cannot sign with SM2 either: its CMS fails as `cms -sign` does).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { pemToDer } from '../../../src/crypto/certificate.ts';
import { id_ct_TSTInfo } from '../../../src/crypto/oids.ts';
import { id_sm3 } from '../../../src/crypto/oids-gm.ts';
import { SM2_DEFAULT_ID } from '../../../src/crypto/sm2-signature.ts';
import { sm3 } from '../../../src/crypto/sm3.ts';
import { opensslOk } from '../openssl.ts';
import { buildSm2Cms, type Sm2Party, type Sm2Pki } from '../sm2-cms.ts';
import { sm2PrivateKeyFromDer } from '../sm2-signing.ts';

export interface Sm2Tsa {
  party: Sm2Party;
  /** A token over `data`: its messageImprint is SM3(data) unless `imprint` is given. */
  stamp(data: Uint8Array, options?: { genTime?: Date; imprint?: Uint8Array }): Uint8Array;
  close(): Promise<void>;
}

export async function makeSm2Tsa(pki: Sm2Pki): Promise<Sm2Tsa> {
  const dir = await mkdtemp(join(tmpdir(), 'seald-sm2-tsa-'));
  const path = (name: string) => join(dir, name);
  const sm3Options = ['-sm3', '-sigopt', `distid:${SM2_DEFAULT_ID}`];
  await opensslOk(['genpkey', '-algorithm', 'SM2', '-out', path('tsa.key')]);
  await opensslOk(['req', '-new', '-key', path('tsa.key'), ...sm3Options, '-subj', '/CN=SM2 TSA/O=seald test', '-out', path('tsa.csr')]);
  await writeFile(path('ext.cnf'), 'extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n');
  await opensslOk(['x509', '-req', '-in', path('tsa.csr'), '-CA', pki.caParty.certificateFile!, '-CAkey', pki.caParty.keyFile!, ...sm3Options,
    '-vfyopt', `distid:${SM2_DEFAULT_ID}`, '-set_serial', '77', '-days', '10', '-extfile', path('ext.cnf'), '-out', path('tsa.pem')]);
  await opensslOk(['pkey', '-in', path('tsa.key'), '-outform', 'DER', '-out', path('tsa.der')]);
  const party: Sm2Party = {
    certificate: pemToDer(await readFile(path('tsa.pem'), 'utf8'))[0]!,
    privateKey: sm2PrivateKeyFromDer(await readFile(path('tsa.der'))),
    keyFile: path('tsa.key'),
    certificateFile: path('tsa.pem'),
  };
  let serial = 1;
  return {
    party,
    stamp(data, options = {}) {
      const info = new pkijs.TSTInfo({
        version: 1,
        policy: '1.2.3.4.1',
        messageImprint: new pkijs.MessageImprint({
          hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: id_sm3 }),
          hashedMessage: new asn1js.OctetString({ valueHex: options.imprint ?? sm3(data) }),
        }),
        serialNumber: new asn1js.Integer({ value: serial++ }),
        genTime: options.genTime ?? new Date(Math.floor(Date.now() / 1000) * 1000),
      });
      const tstInfo = new Uint8Array(info.toSchema().toBER());
      return buildSm2Cms({ digest: sm3(tstInfo), signer: party, dataType: id_ct_TSTInfo, eContent: tstInfo, signingCertificate: party.certificate });
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
