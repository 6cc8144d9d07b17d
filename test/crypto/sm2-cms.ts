/**
 * SM2/SM3 CMS fixtures for tests: an SM2 CA and signers made by the openssl CLI, and a detached SignedData signed by
 * test/crypto/sm2-signing.ts. OpenSSL 3.0's `cms -sign -md sm3` with an SM2 key fails ("illegal zero content" while
 * encoding), so the SignedData is assembled here with asn1js, as GM/T 0010-2012 / GB/T 35275-2017 and RFC 5652
 * §5 lay it out.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { pemToDer } from '../../src/crypto/certificate.ts';
import { id_aa_signingCertificateV2, id_contentType, id_data, id_messageDigest, id_signedData } from '../../src/crypto/oids.ts';
import { id_sm2sign_with_sm3, id_sm3 } from '../../src/crypto/oids-gm.ts';
import { sm2p256v1 } from '../../src/crypto/sm2-curve.ts';
import { encodeSm2Signature } from '../../src/crypto/sm2-encoding.ts';
import { SM2_DEFAULT_ID } from '../../src/crypto/sm2-signature.ts';
import { opensslOk } from './openssl.ts';
import { signSm2, sm2PrivateKeyFromDer } from './sm2-signing.ts';

export interface Sm2Party {
  certificate: Uint8Array;
  privateKey: bigint;
  /** The PEM private key and certificate files openssl made (alive until the PKI's close()). */
  keyFile?: string;
  certificateFile?: string;
}

export interface Sm2Pki {
  ca: Uint8Array;
  /** The CA's certificate with its private key, to sign CRLs. */
  caParty: Sm2Party;
  /** An SM2 CA with the same subject as `ca` and another key: only the SM2 signature tells them apart. */
  otherCa: Uint8Array;
  signer: Sm2Party;
  /** Another SM2 signer under the same CA. */
  other: Sm2Party;
  close(): Promise<void>;
}

/** An SM2 CA (self-signed, SM2-with-SM3, default ID) with two SM2 signers, and an impostor CA of the same name. */
export async function makeSm2Pki(): Promise<Sm2Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'seald-sm2-cms-'));
  const path = (name: string) => join(dir, name);
  const sm3 = ['-sm3', '-sigopt', `distid:${SM2_DEFAULT_ID}`];
  const certificate = async (name: string) => pemToDer(await readFile(path(`${name}.pem`), 'utf8'))[0]!;
  const party = async (name: string): Promise<Sm2Party> => {
    await opensslOk(['pkey', '-in', path(`${name}.key`), '-outform', 'DER', '-out', path(`${name}.der`)]);
    return {
      certificate: await certificate(name),
      privateKey: sm2PrivateKeyFromDer(await readFile(path(`${name}.der`))),
      keyFile: path(`${name}.key`),
      certificateFile: path(`${name}.pem`),
    };
  };
  for (const ca of ['ca', 'other-ca']) {
    await opensslOk(['genpkey', '-algorithm', 'SM2', '-out', path(`${ca}.key`)]);
    await opensslOk(['req', '-x509', '-key', path(`${ca}.key`), ...sm3, '-out', path(`${ca}.pem`), '-subj', '/CN=SM2 CA/O=seald test',
      '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }
  for (const [i, name] of ['signer', 'other'].entries()) {
    await opensslOk(['genpkey', '-algorithm', 'SM2', '-out', path(`${name}.key`)]);
    await opensslOk(['req', '-new', '-key', path(`${name}.key`), ...sm3, '-subj', `/CN=SM2 ${name}/O=seald test`, '-out', path(`${name}.csr`)]);
    await opensslOk(['x509', '-req', '-in', path(`${name}.csr`), '-CA', path('ca.pem'), '-CAkey', path('ca.key'), ...sm3,
      '-vfyopt', `distid:${SM2_DEFAULT_ID}`, '-set_serial', String(10 + i), '-days', '10', '-out', path(`${name}.pem`)]);
  }
  return {
    ca: await certificate('ca'),
    caParty: await party('ca'),
    otherCa: await certificate('other-ca'),
    signer: await party('signer'),
    other: await party('other'),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface Sm2CmsOptions {
  /** SM3 of the signed bytes: the message-digest attribute. */
  digest: Uint8Array;
  signer: Sm2Party;
  /** Certificates to put in SignedData.certificates (default: the signer's). */
  certificates?: Uint8Array[];
  /** ContentInfo.contentType (default RFC 5652 id-signedData; GM/T 0010's 1.2.156.10197.6.1.4.2.2 also occurs). */
  signedDataType?: string;
  /** eContentType and the content-type attribute (default id-data). */
  dataType?: string;
  /** SignerInfo.signatureAlgorithm (default sm2sign-with-sm3). */
  signatureAlgorithm?: string;
  /** Add signing-certificate-v2 naming this certificate (SHA-256 ESSCertIDv2). */
  signingCertificate?: Uint8Array;
  /** The signer's SM2 identity (default GM/T 0009's 1234567812345678; OpenSSL 3.0's CMS uses the empty one). */
  id?: string;
  /**
   * Sign these bytes themselves, with no signed attributes (GM/T 0010-2012, RFC 5652 §5.4's first case);
   * `digest` is then unused.
   */
  signedContent?: Uint8Array;
  /** Encapsulate this content (eContent), as a time-stamp token carries its TSTInfo; `digest` is then its SM3. */
  eContent?: Uint8Array;
}

const oidOf = (value: string) => new asn1js.ObjectIdentifier({ value });
const algorithm = (value: string) => new asn1js.Sequence({ value: [oidOf(value)] });
const attribute = (type: string, value: asn1js.BaseBlock) => new asn1js.Sequence({ value: [oidOf(type), new asn1js.Set({ value: [value] })] });
const der = (block: asn1js.BaseBlock) => new Uint8Array(block.toBER());

/** A detached SignedData (one SignerInfo, signed attributes) with an SM2 signature by `options.signer`. */
export function buildSm2Cms(options: Sm2CmsOptions): Uint8Array {
  const dataType = options.dataType ?? id_data;
  const attributes = [
    attribute(id_contentType, oidOf(dataType)),
    attribute(id_messageDigest, new asn1js.OctetString({ valueHex: options.digest })),
  ];
  if (options.signingCertificate) {
    const certHash = createHash('sha256').update(options.signingCertificate).digest();
    attributes.push(attribute(id_aa_signingCertificateV2,
      new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: certHash })] })] })] })));
  }
  // DER SET OF: elements in ascending order of their encodings (X.690 §11.6)
  attributes.sort((a, b) => Buffer.compare(Buffer.from(der(a)), Buffer.from(der(b))));
  // RFC 5652 §5.4: the signature is over the DER of the attributes as SET OF, not the [0] IMPLICIT encoding
  const signedAttrs = der(new asn1js.Set({ value: attributes }));
  const message = options.signedContent ?? signedAttrs;
  const signature = encodeSm2Signature(signSm2(sm2p256v1, options.signer.privateKey, message, options.id ?? SM2_DEFAULT_ID));

  const signerCert = pkijs.Certificate.fromBER(new Uint8Array(options.signer.certificate));
  const signerInfo = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      new asn1js.Sequence({ value: [signerCert.issuer.toSchema(), signerCert.serialNumber] }),
      algorithm(id_sm3),
      ...(options.signedContent ? [] : [new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: attributes })]),
      algorithm(options.signatureAlgorithm ?? id_sm2sign_with_sm3),
      new asn1js.OctetString({ valueHex: signature }),
    ],
  });
  const certificates = (options.certificates ?? [options.signer.certificate]).map((c) => asn1js.fromBER(new Uint8Array(c)).result);
  const signedData = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      new asn1js.Set({ value: [algorithm(id_sm3)] }),
      new asn1js.Sequence({
        value: [oidOf(dataType), ...(options.eContent
          ? [new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.OctetString({ valueHex: options.eContent })] })]
          : [])],
      }),
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: certificates }),
      new asn1js.Set({ value: [signerInfo] }),
    ],
  });
  return der(new asn1js.Sequence({
    value: [oidOf(options.signedDataType ?? id_signedData), new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [signedData] })],
  }));
}
