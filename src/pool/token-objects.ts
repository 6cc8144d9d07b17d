/**
 * Seals that live on their token (issue 22), as the UKey clients keep them ("内含数字证书和印章的 Ukey"): next to the
 * private key labelled K (CKA_ID = I),
 *   - the certificate chain: CKO_CERTIFICATE objects, CKC_X_509, CKA_ID = I, CKA_LABEL = K; the signing
 *     certificate is the one whose public key is the key's, the others are its issuers (chained by subject/issuer);
 *   - the seal image: one CKO_DATA object, CKA_APPLICATION "seald.seal-image", CKA_LABEL = K, CKA_VALUE = the PNG.
 *     (PKCS#11 v2.40 §4.5: data objects have no CKA_ID; the label ties the image to the key.)
 * All are public token objects (CKA_TOKEN true, CKA_PRIVATE false): a certificate and a seal image are not secrets.
 *
 * Writing replaces what is there (a renewed certificate, a new image). Synchronous PKCS#11 calls: admin work and
 * start-up/reload only, never on the signing path.
 */
import graphene from 'graphene-pk11';
import { Certificate, certificatePublicKeyInfo, describeCertificate } from '../crypto/certificate.ts';
import { children, readTlv } from '../crypto/der.ts';
import { SealdError } from '../errors.ts';
import { withTokenSession, type AdminOptions } from './admin.ts';
import { canonicalSpki, readTokenKeyFacts } from './public-key.ts';

export const SEAL_IMAGE_APPLICATION = 'seald.seal-image';
/** A seal image larger than this is refused on write (PNG seal images are typically 10–100 KiB). */
export const MAX_SEAL_IMAGE_BYTES = 2 * 1024 * 1024;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface SealObjects {
  /** DER, signing certificate first; empty when the token holds none for the key. */
  chain: Uint8Array[];
  /** The PNG, or undefined when the token holds none. */
  imagePng: Uint8Array | undefined;
}

function privateKey(session: graphene.Session, keyLabel: string): graphene.SessionObject {
  const found = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, label: keyLabel });
  if (found.length === 0) throw new SealdError('not-found', 'KEY_NOT_FOUND', `the token holds no private key labelled "${keyLabel}"`);
  return found.items(0);
}

function keyId(key: graphene.SessionObject): Buffer {
  const id = key.getAttribute('id') as Buffer | undefined;
  if (id === undefined || id.length === 0) throw new SealdError('precondition', 'KEY_WITHOUT_ID', 'the key has no CKA_ID to tie its certificate to');
  return id;
}

/** The certificates and image stored for the key labelled `keyLabel` (on a logged-in session). */
export function readSealObjects(session: graphene.Session, keyLabel: string): SealObjects {
  const key = privateKey(session, keyLabel);
  const id = keyId(key);
  const certificates: Uint8Array[] = [];
  const found = session.find({ class: graphene.ObjectClass.CERTIFICATE, id });
  for (let i = 0; i < found.length; i++) certificates.push(new Uint8Array(found.items(i).getAttribute('value') as Buffer));
  const spki = readTokenKeyFacts(session, key)?.spki;
  const images = session.find({ class: graphene.ObjectClass.DATA, application: SEAL_IMAGE_APPLICATION, label: keyLabel });
  const imagePng = images.length === 0 ? undefined : new Uint8Array(images.items(0).getAttribute('value') as Buffer);
  return { chain: orderChain(certificates, spki), imagePng };
}

/** Signing certificate (the one for the key's public key) first, then each issuer by subject = issuer. */
export function orderChain(certificates: Uint8Array[], spki: Uint8Array | undefined): Uint8Array[] {
  if (certificates.length === 0) return [];
  const wanted = spki === undefined ? undefined : canonicalSpki(spki);
  const signer = certificates.find((c) => wanted !== undefined && canonicalSpki(certificatePublicKeyInfo(c)).equals(wanted)) ?? certificates[0]!;
  const ordered = [signer];
  const rest = certificates.filter((c) => c !== signer);
  while (rest.length > 0) {
    const issuerName = describeCertificate(ordered[ordered.length - 1]!).issuer;
    const index = rest.findIndex((c) => describeCertificate(c).subject === issuerName);
    if (index < 0) break;
    ordered.push(...rest.splice(index, 1));
  }
  return [...ordered, ...rest];
}

/**
 * Store `chain` (DER, signing certificate first) as the key's certificates, replacing those there. Refuses a chain
 * whose first certificate is not for the key (KEY_CERTIFICATE_MISMATCH): nothing is written then.
 */
export function writeCertificateChain(
  modulePath: string,
  tokenLabel: string,
  pin: string,
  keyLabel: string,
  chain: Uint8Array[],
  opts: AdminOptions = {},
): void {
  if (chain.length === 0) throw new SealdError('invalid-input', 'CERTIFICATE_MISSING', 'no certificate to write');
  withTokenSession(modulePath, tokenLabel, pin, opts, (session) => {
    const key = privateKey(session, keyLabel);
    const id = keyId(key);
    const spki = readTokenKeyFacts(session, key)?.spki;
    if (spki !== undefined && !canonicalSpki(certificatePublicKeyInfo(chain[0]!)).equals(canonicalSpki(spki))) {
      throw new SealdError('precondition', 'KEY_CERTIFICATE_MISMATCH', `the first certificate is not for key "${keyLabel}" on token "${tokenLabel}"`);
    }
    const old = session.find({ class: graphene.ObjectClass.CERTIFICATE, id });
    const stale: graphene.SessionObject[] = [];
    for (let i = 0; i < old.length; i++) stale.push(old.items(i));
    for (const der of chain) {
      session.create({
        class: graphene.ObjectClass.CERTIFICATE,
        certType: graphene.CertificateType.X_509,
        token: true,
        private: false,
        label: keyLabel,
        id,
        subject: Buffer.from(subjectDer(der)),
        value: Buffer.from(der),
        serial: Buffer.from(Certificate.from(der).serialNumber.bytes), // CKA_SERIAL_NUMBER: the DER INTEGER
      });
    }
    // Old objects go only once the new ones are in: an interrupted write leaves a chain, never none.
    for (const object of stale) object.destroy();
    opts.logger?.info({ token: tokenLabel, key: keyLabel, certificates: chain.length, subject: describeCertificate(chain[0]!).subject }, 'wrote certificate chain on token');
  });
}

/**
 * An SVG document's start (an XML declaration and comments may precede the root): the embedded demo's seals are
 * vector drawings (src/provision/seal-image.ts) and keep that form on the token. A gate on write only; what the
 * bytes draw is decided when the seal loads (pdf/image.ts prepareSealImage).
 */
function startsAsSvg(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('utf8').replace(/^\uFEFF/, '');
  return /^\s*(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/.test(head);
}

/** Store `png` (or an SVG seal drawing) as the key's seal image, replacing the one there. */
export function writeSealImage(modulePath: string, tokenLabel: string, pin: string, keyLabel: string, png: Uint8Array, opts: AdminOptions = {}): void {
  if (png.byteLength > MAX_SEAL_IMAGE_BYTES) throw new SealdError('invalid-input', 'IMAGE_TOO_LARGE', `the seal image is ${png.byteLength} bytes (at most ${MAX_SEAL_IMAGE_BYTES})`);
  if (!Buffer.from(png.subarray(0, 8)).equals(PNG_SIGNATURE) && !startsAsSvg(png)) {
    throw new SealdError('invalid-input', 'IMAGE_NOT_PNG', 'the seal image is neither a PNG nor an SVG file');
  }
  withTokenSession(modulePath, tokenLabel, pin, opts, (session) => {
    privateKey(session, keyLabel); // an image for a key that is not there would never be found
    const old = session.find({ class: graphene.ObjectClass.DATA, application: SEAL_IMAGE_APPLICATION, label: keyLabel });
    const stale: graphene.SessionObject[] = [];
    for (let i = 0; i < old.length; i++) stale.push(old.items(i));
    session.create({
      class: graphene.ObjectClass.DATA,
      token: true,
      private: false,
      label: keyLabel,
      application: SEAL_IMAGE_APPLICATION,
      value: Buffer.from(png),
    });
    for (const object of stale) object.destroy();
    opts.logger?.info({ token: tokenLabel, key: keyLabel, bytes: png.byteLength }, 'wrote seal image on token');
  });
}

/** Read the key's objects through an admin session (tests, `seald admin`). */
export function readSealObjectsWith(modulePath: string, tokenLabel: string, pin: string, keyLabel: string, opts: AdminOptions = {}): SealObjects {
  return withTokenSession(modulePath, tokenLabel, pin, opts, (session) => readSealObjects(session, keyLabel));
}

/** The DER subject Name of a certificate (RFC 5280 §4.1: TBSCertificate's subject, after version?, serial, signature, issuer, validity), for CKA_SUBJECT. */
function subjectDer(certificate: Uint8Array): Uint8Array {
  const tbs = children(readTlv(children(readTlv(certificate))[0]!.bytes));
  const first = tbs[0]?.tag === 0xa0 ? 1 : 0; // [0] EXPLICIT version
  return tbs[first + 4]!.bytes;
}
