/**
 * Embedded defaults: on a fresh machine, `seald serve` without a config provisions a working demo in the data
 * directory — a SoftHSM2 token with two keys, a development CA, certificates, seal images and a normal seald.yaml.
 *
 * Idempotent: everything present is reused (a second start creates no key and no certificate); anything missing is
 * created. Certificates are re-issued only when they no longer fit (other key, other CA, expired).
 *
 * Provisioning runs in this process, through the module registry (src/pool/module-registry.ts), not in a child
 * process: token initialisation and key generation lease the module like a TokenPool does, with CKF_OS_LOCKING_OK,
 * and release it when done — the last release finalises it, so the TokenPool the server opens next initialises it
 * afresh with the token and keys in place. Nothing runs concurrently with provisioning, and every call is one of the
 * synchronous forms (async key generation leaks in pkcs11js, NOTES.md).
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { SealdError } from '../errors.ts';
import { certificatePublicKeyInfo, derToPem, describeCertificate, pemToDer } from '../crypto/certificate.ts';
import { createDevCa, issueEndEntityCertificate, type DevCa } from '../crypto/dev-ca.ts';
import type { SubjectName } from '../crypto/distinguished-name.ts';
import { findKeyPublicInfo, generateKeyPair, initializeToken, listTokenLabels, type AdminKeyType } from '../pool/admin.ts';
import { canonicalSpki } from '../pool/public-key.ts';
import { readSealObjectsWith, writeCertificateChain, writeSealImage } from '../pool/token-objects.ts';
import { sealImageSvg } from './seal-image.ts';
import { exists, writeAtomic } from './files.ts';
import { ensureDemoTls, hasDemoTls } from './demo-tls.ts';
import { isLoopbackAddress } from '../config/activation-config.ts';
import type { TlsConfig } from '../config/seals-config.ts';

const run = promisify(execFile);

export const EMBEDDED_TOKEN_LABEL = 'seald-demo';
export const DEMO_ORGANIZATION = '示例商贸有限公司'; // "Example Trading Co., Ltd." — a made-up demo company
export const DEMO_PERSON = '张三'; // the Chinese placeholder name ("John Doe")

/** Where distributions put the SoftHSM2 PKCS#11 library. */
export const SOFTHSM_MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so', // Debian, Ubuntu, Alpine
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so', // Fedora, RHEL
  '/usr/lib64/softhsm/libsofthsm2.so',
  '/usr/lib/pkcs11/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so', // built from source
  '/opt/homebrew/lib/softhsm/libsofthsm2.so', // macOS (Homebrew)
  '/usr/local/opt/softhsm/lib/softhsm/libsofthsm2.so',
];

export interface EmbeddedDefaultsOptions {
  /** Library paths to try, in order (default SOFTHSM_MODULE_CANDIDATES). */
  moduleCandidates?: string[];
  /** Install softhsm2 with apt-get when missing and running as root (default true). */
  allowInstall?: boolean;
  /**
   * The gRPC listen address the server will use (default loopback). Off loopback the demo serves mutual TLS with
   * certificates from the dev CA (demo-tls.ts), since plaintext there is refused (src/config/network-config.ts).
   */
  listen?: string;
  /** Further names for the server certificate (SEALD_TLS_SERVER_NAMES): the names clients dial. */
  tlsServerNames?: readonly string[];
}

export interface EmbeddedDefaults {
  configPath: string;
  /** Set when the demo serves TLS: off loopback, or once its data directory holds TLS material. */
  tls?: TlsConfig;
}

interface SealPlan {
  id: 'org' | 'personal' | 'legal-rep';
  keyType: AdminKeyType;
  /** CKA_ALWAYS_AUTHENTICATE: each signature needs the holder's PIN (signature activation). */
  alwaysAuthenticate?: boolean;
  subject: SubjectName;
  /** The seal image, an SVG of filled paths (seal-image.ts): seald draws it as vectors in the appearance. */
  draw: () => string;
}

const SEALS: SealPlan[] = [
  {
    id: 'org',
    keyType: 'RSA-2048',
    subject: { country: 'CN', organization: DEMO_ORGANIZATION, commonName: `${DEMO_ORGANIZATION} 电子印章` },
    draw: () => sealImageSvg({ name: DEMO_ORGANIZATION, kind: 'official' }),
  },
  {
    id: 'personal',
    keyType: 'EC-P256',
    subject: { country: 'CN', organization: DEMO_ORGANIZATION, commonName: DEMO_PERSON },
    draw: () => sealImageSvg({ name: DEMO_PERSON, kind: 'personal' }),
  },
  {
    // 法定代表人章: the legal representative's seal, under sole control — every signature needs the holder's PIN.
    // SoftHSM has no per-key PIN: the context-specific login checks the token's user PIN (token.pin), see
    // docs/security.md. `personal` stays without activation so existing demo set-ups and scripts keep working.
    id: 'legal-rep',
    keyType: 'EC-P256',
    alwaysAuthenticate: true,
    subject: { country: 'CN', organization: DEMO_ORGANIZATION, commonName: `${DEMO_PERSON}（法定代表人）` },
    draw: () => sealImageSvg({ name: DEMO_PERSON, kind: 'legal-representative' }),
  },
];

async function findModule(candidates: string[]): Promise<string | undefined> {
  for (const candidate of candidates) if (await exists(candidate)) return candidate;
  return undefined;
}

async function onPath(command: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && (await exists(path.join(dir, command)))) return true;
  }
  return false;
}

/** The SoftHSM2 module, installing the Debian package when that is possible without asking anyone. */
async function locateSoftHsm(options: EmbeddedDefaultsOptions, log: Logger): Promise<string> {
  const candidates = options.moduleCandidates ?? SOFTHSM_MODULE_CANDIDATES;
  const found = await findModule(candidates);
  if (found !== undefined) return found;
  const isRoot = process.getuid?.() === 0;
  if ((options.allowInstall ?? true) && isRoot && (await onPath('apt-get'))) {
    log.warn('SoftHSM2 is not installed: running `apt-get install -y softhsm2`');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      await run('apt-get', ['install', '-y', 'softhsm2'], { env });
    } catch {
      log.warn('apt-get install failed; refreshing the package lists (`apt-get update`) and trying once more');
      await run('apt-get', ['update'], { env }).catch(() => undefined);
      await run('apt-get', ['install', '-y', 'softhsm2'], { env }).catch((error: unknown) => {
        log.error({ err: error }, 'apt-get install softhsm2 failed');
      });
    }
    const installed = await findModule(candidates);
    if (installed !== undefined) {
      log.info({ module: installed }, 'installed SoftHSM2');
      return installed;
    }
  }
  throw new SealdError(
    'unavailable',
    'SOFTHSM_MISSING',
    'SoftHSM2 is not installed: run `sudo apt-get install softhsm2`, or give a --config with your PKCS#11 module',
  );
}

/** A random secret in a 0600 file, or the one already there. */
async function ensureSecret(file: string): Promise<{ value: string; created: boolean }> {
  if (await exists(file)) {
    const value = (await readFile(file, 'utf8')).trim();
    if (value !== '') return { value, created: false };
  }
  const value = randomBytes(18).toString('base64url'); // 24 characters, 144 bits
  await writeAtomic(file, `${value}\n`, 0o600);
  return { value, created: true };
}

/** The dev CA from ca/, or a new one when its certificate or key is missing or they do not belong together. */
async function ensureDevCa(dir: string, log: Logger): Promise<{ ca: DevCa; created: boolean }> {
  const certPath = path.join(dir, 'dev-ca.pem');
  const keyPath = path.join(dir, 'dev-ca.key.pem');
  if ((await exists(certPath)) && (await exists(keyPath))) {
    try {
      const [certificate] = pemToDer(await readFile(certPath, 'utf8'));
      const key = createPrivateKey(await readFile(keyPath, 'utf8'));
      if (
        certificate !== undefined &&
        canonicalSpki(certificatePublicKeyInfo(certificate)).equals(canonicalSpki(createPublicKey(key).export({ type: 'spki', format: 'der' })))
      ) {
        const privateKeyPkcs8 = new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }));
        return { ca: { certificate, privateKeyPkcs8 }, created: false };
      }
      log.warn('the development CA certificate and key do not match; creating a new CA');
    } catch (error) {
      log.warn({ err: error }, 'the development CA files are unreadable; creating a new CA');
    }
  }
  const ca = await createDevCa();
  await writeAtomic(keyPath, derToPem(ca.privateKeyPkcs8, 'PRIVATE KEY'), 0o600);
  await writeAtomic(certPath, derToPem(ca.certificate));
  log.info({ subject: describeCertificate(ca.certificate).subject }, 'created development CA');
  return { ca, created: true };
}

/** Why the chain stored on the token for a key cannot be reused, or undefined when it can. */
function staleChainReason(chain: Uint8Array[], spki: Uint8Array, ca: DevCa): string | undefined {
  const [signer, issuer] = chain;
  if (signer === undefined) return 'missing';
  if (issuer === undefined) return 'incomplete';
  if (!Buffer.from(issuer).equals(Buffer.from(ca.certificate))) return 'issued by another CA';
  try {
    if (!canonicalSpki(certificatePublicKeyInfo(signer)).equals(canonicalSpki(spki))) return 'for another key';
    if (describeCertificate(signer).notAfter.getTime() <= Date.now()) return 'expired';
  } catch {
    return 'unreadable';
  }
  return undefined;
}

function configYaml(module: string): string {
  return `# seald configuration (generated embedded defaults; edit freely)
# A demo setup: a SoftHSM2 token in this directory, keys generated on it, certificates from a development CA that
# nobody else trusts. For real seals, point pkcs11 at your HSM and the seals at certificates from your CA.
pkcs11:
  module: ${module}
  env: { SOFTHSM2_CONF: softhsm2.conf }   # environment set before the module is loaded (relative paths resolved)
  tokens:
    - label: ${EMBEDDED_TOKEN_LABEL}
      pin: { file: token.pin }
# Each seal by token and key label alone: its certificate chain and image are read from the token, next to the key
# (written there with \`seald admin write-certificate|write-image\`; copies in seals/). To use files instead, add
# certificates: seals/<id>.chain.pem and image: seals/<id>.svg (or a PNG) to a seal.
seals:
  - id: org
    kind: official                    # 公章; also contract, finance, invoice, legal_representative, personal
    name: ${DEMO_ORGANIZATION}          # display name (Example Trading Co., Ltd. — a demo company)
    key: org                          # CKA_LABEL on the token (the first token above)
    size_mm: 42
  - id: personal
    kind: personal
    name: ${DEMO_PERSON}
    key: personal
    size_mm: 20
  - id: legal-rep                     # 法定代表人章: every signature needs the holder's PIN
    kind: legal_representative
    name: ${DEMO_PERSON}（法定代表人）
    key: legal-rep                    # generated with CKA_ALWAYS_AUTHENTICATE
    size_mm: 20
    activation: required              # seald seal --seal legal-rep --pin-file token.pin (SoftHSM: the user PIN)
activation:
  # On loopback the demo listens without TLS; PINs may travel in the clear there only because of this development
  # key. Off loopback the demo serves mutual TLS (certificates in tls/, from the dev CA) and this key has no effect.
  insecure_accept_pins_over_plaintext_for_development: true
trust:
  anchors: [ca/dev-ca.pem]
`;
}

export async function ensureEmbeddedDefaults(
  dataDir: string,
  logger: Logger,
  options: EmbeddedDefaultsOptions = {},
): Promise<EmbeddedDefaults> {
  const dir = path.resolve(dataDir);
  const log = logger.child({ component: 'embedded-defaults', dataDir: dir });
  const module = await locateSoftHsm(options, log);

  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const sub of ['tokens', 'ca', 'seals']) await mkdir(path.join(dir, sub), { recursive: true, mode: 0o700 });

  // SoftHSM2 reads this file (named by SOFTHSM2_CONF) in C_Initialize; the token store lives next to it.
  const softhsmConf = path.join(dir, 'softhsm2.conf');
  if (!(await exists(softhsmConf))) {
    await writeAtomic(
      softhsmConf,
      `# SoftHSM2 configuration for seald's embedded defaults\ndirectories.tokendir = ${path.join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
    );
  }
  const admin = { env: { SOFTHSM2_CONF: softhsmConf }, logger: log };

  // --- token and PINs ---------------------------------------------------------------------------------------------
  const pinPath = path.join(dir, 'token.pin');
  const soPinPath = path.join(dir, 'so.pin');
  const tokenExists = listTokenLabels(module, admin).some((t) => t.label === EMBEDDED_TOKEN_LABEL);
  let userPin: string;
  if (tokenExists) {
    if (!(await exists(pinPath))) {
      throw new SealdError(
        'precondition',
        'EMBEDDED_PIN_LOST',
        `the demo token exists but ${pinPath} is gone; remove ${path.join(dir, 'tokens')} to provision a new token`,
      );
    }
    userPin = (await ensureSecret(pinPath)).value;
  } else {
    userPin = (await ensureSecret(pinPath)).value;
    const soPin = (await ensureSecret(soPinPath)).value;
    initializeToken(module, { label: EMBEDDED_TOKEN_LABEL, soPin, userPin }, admin);
  }

  // --- keys, CA, certificates, images -----------------------------------------------------------------------------
  const { ca, created: caCreated } = await ensureDevCa(path.join(dir, 'ca'), log);
  for (const seal of SEALS) {
    let spki = findKeyPublicInfo(module, EMBEDDED_TOKEN_LABEL, userPin, seal.id, admin);
    if (spki === undefined) {
      spki = generateKeyPair(module, EMBEDDED_TOKEN_LABEL, userPin, {
        label: seal.id,
        type: seal.keyType,
        ...(seal.alwaysAuthenticate === true ? { alwaysAuthenticate: true } : {}),
        ...admin,
      });
    }
    // The seal's certificate chain and image live on the token next to its key, written with the code of
    // `seald admin write-certificate|write-image` (src/pool/token-objects.ts), as an operator would. Copies go to
    // seals/ for anyone who prefers files (seals[].certificates / image) or wants to write them onto another token.
    const onToken = readSealObjectsWith(module, EMBEDDED_TOKEN_LABEL, userPin, seal.id, admin);
    const stale = caCreated ? 'new CA' : staleChainReason(onToken.chain, spki, ca);
    if (stale !== undefined) {
      const now = Date.now();
      const certificate = await issueEndEntityCertificate({
        ca,
        subjectPublicKeyInfo: spki,
        subject: seal.subject,
        validity: { notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 2 * 365 * 86_400_000) },
      });
      writeCertificateChain(module, EMBEDDED_TOKEN_LABEL, userPin, seal.id, [certificate, ca.certificate], admin);
      await writeAtomic(path.join(dir, 'seals', `${seal.id}.chain.pem`), derToPem(certificate) + derToPem(ca.certificate));
      log.info({ seal: seal.id, subject: describeCertificate(certificate).subject, reason: stale }, 'issued seal certificate');
    }
    if (onToken.imagePng === undefined) {
      const svg = seal.draw();
      writeSealImage(module, EMBEDDED_TOKEN_LABEL, userPin, seal.id, Buffer.from(svg, 'utf8'), admin);
      await writeAtomic(path.join(dir, 'seals', `${seal.id}.svg`), svg);
    }
  }

  const configPath = path.join(dir, 'seald.yaml');
  if (!(await exists(configPath))) {
    await writeAtomic(configPath, configYaml(module));
    log.info({ config: configPath }, 'wrote embedded default configuration');
  }
  // --- TLS off loopback -------------------------------------------------------------------------------------------
  // A data directory that once served on the network keeps serving TLS on every address: a client on the same data
  // directory (the CLI, the container HEALTHCHECK) then always knows to use it. Remove <data dir>/tls to go back.
  const listen = options.listen ?? '127.0.0.1:50051';
  if (!isLoopbackAddress(listen) || (await hasDemoTls(dir))) {
    const tls = await ensureDemoTls(dir, ca, listen, options.tlsServerNames ?? [], log);
    return { configPath, tls };
  }
  return { configPath };
}
