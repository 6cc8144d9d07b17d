/**
 * The configured seals, loaded once at start-up: certificate chain (PEM → DER), seal image (PNG → prepared image
 * streams), and a Signer for the key from the token pool. A seal that cannot be loaded stops the start-up with a
 * message naming it: a server that silently lacks a seal would fail every caller later instead.
 */
import * as fs from 'node:fs';
import type { CertificateDescription } from '../crypto/certificate.ts';
import { certificatePublicKeyInfo, describeCertificate, pemToDer } from '../crypto/certificate.ts';
import { publicKeyParameters } from '../crypto/key-parameters.ts';
import type { Signer } from '../crypto/signer.ts';
import type { SealMaterial } from '../engine/seal.ts';
import { SealdError } from '../errors.ts';
import { prepareSealImage } from '../pdf/image.ts';
import { checkDateStampFormat } from '../pdf/date-stamp.ts';
import { checkTimeZone } from '../pdf/pdf-date.ts';
import type { SealConfig } from '../config/config.ts';
import type { SignatureActivation } from '../pool/activation.ts';
import type { Logger } from './logger.ts';

/** What the server needs from the token pool (src/pool's TokenPool provides it). */
export interface KeyProvider {
  signer(keyLabel: string, certificates: Uint8Array[]): ActivatableSigner | Promise<ActivatableSigner>;
  /** True when a ready token holds the key. */
  hasKey(keyLabel: string): boolean;
  /** The certificate chain and seal image stored on the token next to the key (src/pool/token-objects.ts). */
  sealObjects?(keyLabel: string): { chain: Uint8Array[]; imagePng: Uint8Array | undefined } | undefined;
  /** Whether the key carries CKA_ALWAYS_AUTHENTICATE (undefined: not known, e.g. its token is down). */
  requiresActivation?(keyLabel: string): boolean | undefined;
}

/** A Signer that may also sign once with its holder's PIN (src/pool's PoolSigner). */
export type ActivatableSigner = Signer & { activated?(activation: SignatureActivation): Signer };

export interface ConfiguredSeal {
  config: SealConfig;
  material: SealMaterial;
  certificate: CertificateDescription;
  /** e.g. `RSA-2048`, `EC P-256`. */
  keyDescription: string;
  /** The certificate chain, DER, signer first (ListSeals). */
  chain?: Uint8Array[];
  /** The seal image's PNG bytes as read (ListSeals). */
  imagePng?: Uint8Array;
  /** Where certificate and image were read from. */
  materialSource?: 'file' | 'token';
  /**
   * For a seal with `activation: required`: the material of ONE signature made with the holder's PIN. Never cached;
   * the caller disposes of the activation when the request ends.
   */
  activate?(activation: SignatureActivation): SealMaterial;
}

const POINTS_PER_MM = 72 / 25.4;

export async function loadSeals(
  seals: readonly SealConfig[],
  keys: KeyProvider,
  logger: Logger,
  wrapSigner: (signer: Signer, seal: SealConfig) => Signer = (signer) => signer,
): Promise<Map<string, ConfiguredSeal>> {
  const loaded = new Map<string, ConfiguredSeal>();
  for (const config of seals) {
    const seal = await loadSeal(config, keys, wrapSigner).catch((cause: unknown) => {
      const detail = cause instanceof Error ? cause.message : String(cause);
      throw new SealdError('invalid-input', 'SEAL_CONFIG_INVALID', `seal "${config.id}": ${detail}`, { cause });
    });
    loaded.set(config.id, seal);
    logger.info(
      {
        sealId: config.id,
        subject: seal.certificate.subject,
        notAfter: seal.certificate.notAfter.toISOString(),
        key: seal.keyDescription,
      },
      'seal loaded',
    );
  }
  return loaded;
}

export async function loadSeal(
  config: SealConfig,
  keys: KeyProvider,
  wrapSigner: (signer: Signer, seal: SealConfig) => Signer,
): Promise<ConfiguredSeal> {
  const onToken = config.certificates === undefined || config.image === undefined ? keys.sealObjects?.(config.key) : undefined;
  const fromToken = (what: string): Error =>
    new Error(`no ${what} file configured and ${onToken === undefined ? 'no ready token holding' : 'none stored on the token next to'} key "${config.key}" (seald admin write-${what === 'certificates' ? 'certificate' : 'image'})`);
  let chain: Uint8Array[];
  if (config.certificates !== undefined) {
    chain = pemToDer(await readFile(config.certificates, 'certificates'));
    if (chain.length === 0) throw new Error(`no PEM certificate in ${config.certificates}`);
  } else {
    chain = onToken?.chain ?? [];
    if (chain.length === 0) throw fromToken('certificates');
  }
  const certificate = describeCertificate(chain[0]!);
  if (config.dateStamp !== undefined) checkDateStampFormat(config.dateStamp);
  if (config.timeZone !== undefined) checkTimeZone(config.timeZone);
  let imagePng: Uint8Array;
  if (config.image !== undefined) {
    imagePng = new Uint8Array(await readFile(config.image, 'image', null));
  } else {
    if (onToken?.imagePng === undefined) throw fromToken('image');
    imagePng = onToken.imagePng;
  }
  const image = prepareSealImage(imagePng);
  const tokenSigner = await keys.signer(config.key, chain);
  const signer = wrapSigner(tokenSigner, config);
  checkActivation(config, keys.requiresActivation?.(config.key));
  // size_mm is the mark's longer side; the shorter one follows the image's aspect ratio.
  const longSide = config.sizeMm * POINTS_PER_MM;
  const scale = longSide / Math.max(image.width, image.height);
  const material: SealMaterial = {
    id: config.id,
    signer,
    image,
    defaultWidth: image.width * scale,
    defaultHeight: image.height * scale,
    ...(config.dateStamp === undefined ? {} : { dateStampFormat: config.dateStamp }),
    ...(config.timeZone === undefined ? {} : { timeZone: config.timeZone }),
    kind: config.kind, // recorded in the signature dictionary (/Seald_SealKind), reported by verify
  };
  const seal: ConfiguredSeal = { config, material, certificate, keyDescription: describeKey(chain[0]!), chain, imagePng, materialSource: onToken === undefined ? 'file' : 'token' };
  const activated = tokenSigner.activated?.bind(tokenSigner);
  if (config.activation === 'required' && activated !== undefined) {
    seal.activate = (activation) => ({ ...material, signer: wrapSigner(activated(activation), config) });
  }
  return seal;
}

/**
 * Sole control is the token's job: a seal that requires activation must have a key the token guards with
 * CKA_ALWAYS_AUTHENTICATE (else a PIN would be asked for and checked by nobody), and a key so guarded cannot sign
 * for a seal that sends no PIN. Unknown (token down at start): checked by the token at each signature.
 */
function checkActivation(config: SealConfig, keyRequires: boolean | undefined): void {
  if (keyRequires === undefined) return;
  if (config.activation === 'required' && !keyRequires) {
    throw new Error(`activation is required, but key "${config.key}" lacks CKA_ALWAYS_AUTHENTICATE, so the token would not check the PIN`);
  }
  if (config.activation !== 'required' && keyRequires) {
    throw new Error(`key "${config.key}" has CKA_ALWAYS_AUTHENTICATE (a PIN per signature): set activation: required on the seal`);
  }
}

function describeKey(certificateDer: Uint8Array): string {
  const key = publicKeyParameters(certificatePublicKeyInfo(certificateDer));
  return key.algorithm === 'ECDSA' ? `EC ${key.namedCurve}` : `RSA-${key.modulusBytes * 8}`;
}

function readFile(file: string, what: string): Promise<string>;
function readFile(file: string, what: string, encoding: null): Promise<Buffer>;
async function readFile(file: string, what: string, encoding: 'utf8' | null = 'utf8'): Promise<string | Buffer> {
  try {
    return await fs.promises.readFile(file, encoding === null ? {} : { encoding });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`cannot read ${what} ${file} (${code})`);
  }
}
