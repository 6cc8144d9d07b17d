/**
 * A test-only Signer over software keys, with certificates made by the openssl CLI (not by seald), so the CMS tests
 * check seald against an independent implementation end to end.
 */
import { constants, privateEncrypt } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignatureAlgorithm, Signer } from '../../src/crypto/signer.ts';
import { sha256DigestInfo } from '../../src/crypto/digest-info.ts';
import { pemToDer } from '../../src/crypto/certificate.ts';
import { opensslOk } from './openssl.ts';

export type SoftwareKeyType = 'RSA-2048' | 'EC-P256';

export interface SoftwareFixture {
  dir: string;
  signer: Signer;
  caPemPath: string;
  eePemPath: string;
  eeKeyPath: string;
  /** Count of signDigest calls. */
  signs: () => number;
}

const KEYGEN: Record<SoftwareKeyType, string[]> = {
  'RSA-2048': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  'EC-P256': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
};

/** CA (EC P-256) and an end-entity certificate for a new key of `type`, all by openssl. */
export async function createSoftwareFixture(
  type: SoftwareKeyType,
  subject = '/C=CN/O=示例商贸有限公司/CN=张三',
  days = 2,
): Promise<SoftwareFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'seald-crypto-'));
  const p = (name: string) => join(dir, name);
  await opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p('ca.key')]);
  await opensslOk([
    'req', '-x509', '-new', '-key', p('ca.key'), '-subj', '/C=CN/O=Test/CN=Test Root', '-days', '3', '-utf8',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', p('ca.pem'),
  ]);
  await opensslOk(['genpkey', ...KEYGEN[type], '-out', p('ee.key')]);
  await opensslOk(['req', '-new', '-key', p('ee.key'), '-subj', subject, '-utf8', '-out', p('ee.csr')]);
  await writeFile(p('ee.ext'), 'keyUsage=critical,digitalSignature,nonRepudiation\nbasicConstraints=critical,CA:FALSE\n');
  await opensslOk([
    'x509', '-req', '-in', p('ee.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-days', String(days), '-extfile', p('ee.ext'), '-out', p('ee.pem'),
  ]);
  const [ee] = pemToDer(await readFile(p('ee.pem'), 'utf8'));
  const [ca] = pemToDer(await readFile(p('ca.pem'), 'utf8'));
  const keyPem = await readFile(p('ee.key'), 'utf8');
  const algorithm: SignatureAlgorithm = type === 'RSA-2048' ? 'RSASSA-PKCS1-v1_5' : 'ECDSA';
  let count = 0;
  const signer: Signer = {
    certificates: [ee!, ca!],
    algorithm,
    async signDigest(digest) {
      count++;
      if (algorithm === 'RSASSA-PKCS1-v1_5') {
        // PKCS#1 v1.5 type-1 padding over the DigestInfo, exactly what CKM_RSA_PKCS does on a token.
        return new Uint8Array(privateEncrypt({ key: keyPem, padding: constants.RSA_PKCS1_PADDING }, sha256DigestInfo(digest)));
      }
      // Node cannot sign a pre-computed digest with ECDSA; `pkeyutl -sign` on an EC key treats its input as the digest.
      const { stdoutBytes } = await opensslOk(['pkeyutl', '-sign', '-inkey', p('ee.key')], digest);
      return new Uint8Array(stdoutBytes);
    },
  };
  return { dir, signer, caPemPath: p('ca.pem'), eePemPath: p('ee.pem'), eeKeyPath: p('ee.key'), signs: () => count };
}
