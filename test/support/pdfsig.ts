/**
 * poppler's `pdfsig` as an independent verifier. It checks each signature's integrity over its /ByteRange, whether the
 * ranges cover the whole file, and (given an NSS database that trusts a CA) the signer's certificate. It does not
 * analyse what changed after a signature (NOTES.md: it calls shadow attacks valid), so tests that care about later
 * revisions need more than this.
 *
 * Output of poppler 22.12 for one signature, which the parser below reads:
 *
 *   Digital Signature Info of: out.pdf
 *   Signature #1:
 *     - Signature Field Name: OtherSig
 *     - Signer Certificate Common Name: Other Signer
 *     - Signer full Distinguished Name: O=Elsewhere,CN=Other Signer
 *     - Signing Time: Nov 21 2026 00:42:16
 *     - Signing Hash Algorithm: SHA-256
 *     - Signature Type: adbe.pkcs7.detached
 *     - Signed Ranges: [0 - 1155860], [1160578 - 1161015]
 *     - Total document signed
 *     - Signature Validation: Signature is Valid.
 *     - Certificate Validation: Certificate issuer isn't Trusted.
 *
 * A file without signatures prints "File '…' does not contain any signatures" and exits with 2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNssDb } from './pki.ts';
import { run } from './run.ts';

export interface PdfsigSignature {
  /** 1-based, in the order pdfsig lists them (document order of the signature fields). */
  index: number;
  fieldName?: string;
  signerName?: string;
  signerDn?: string;
  signingTime?: string;
  hashAlgorithm?: string;
  /** What pdfsig prints as "Signature Type": adbe.pkcs7.detached, ETSI.CAdES.detached, … */
  subFilter?: string;
  /** [start, end) pairs as printed ("[0 - 1155860]" is bytes 0 … 1155859). */
  signedRanges: [number, number][];
  signatureValid: boolean;
  /** e.g. "Signature is Valid.", "Digest Mismatch.", "Signature has not yet been verified." */
  validationText: string;
  /** e.g. "Certificate is Trusted.", "Certificate issuer isn't Trusted.", "" when not checked. */
  certificateText: string;
  certificateTrusted: boolean;
  /** "Total document signed" (true) or "Not total document signed" (false). */
  coversWholeDocument: boolean;
  raw: string;
}

export interface PdfsigReport {
  signatures: PdfsigSignature[];
  raw: string;
  exitCode: number;
}

export interface PdfsigOptions {
  /** CA certificates (PEM files) to trust, so "Certificate Validation" means something. Default: trust nothing. */
  trustCaPems?: readonly string[];
  /** An NSS database of your own (`sql:/path`), instead of the throwaway one. */
  nssDir?: string;
  userPassword?: string;
  ownerPassword?: string;
  /**
   * Pass -no-ocsp. Off by default: in poppler 22.12 it turns every certificate verdict into "Unknown issue with
   * Certificate or corrupted data." even for a trusted chain. Without it pdfsig asks OCSP responders named in the
   * certificates' AIA extension; test certificates without AIA cause no network traffic.
   */
  noOcsp?: boolean;
}

export async function pdfsig(file: string, opts: PdfsigOptions = {}): Promise<PdfsigReport> {
  const nssDir = opts.nssDir ?? (await throwawayNssDb(opts.trustCaPems ?? []));
  const args = ['-nssdir', nssDir];
  if (opts.noOcsp) args.push('-no-ocsp');
  if (opts.userPassword !== undefined) args.push('-upw', opts.userPassword);
  if (opts.ownerPassword !== undefined) args.push('-opw', opts.ownerPassword);
  args.push(file);
  const result = await run('pdfsig', args, { env: nssEnvironment() });
  const raw = result.stdout.toString('utf8');
  if (/does not contain any signatures/.test(raw + result.stderr)) {
    return { signatures: [], raw: raw + result.stderr, exitCode: result.code };
  }
  if (!raw.includes('Digital Signature Info of:')) {
    throw new Error(`pdfsig could not read ${file} (exit ${result.code}): ${(result.stderr || raw).trim()}`);
  }
  return { signatures: parsePdfsigOutput(raw), raw, exitCode: result.code };
}

export function parsePdfsigOutput(raw: string): PdfsigSignature[] {
  const blocks = raw.split(/^Signature #(\d+):\s*$/m);
  const signatures: PdfsigSignature[] = [];
  // split with a capture group gives [preamble, index, body, index, body, …]
  for (let i = 1; i + 1 < blocks.length; i += 2) {
    const body = blocks[i + 1]!;
    const fields = new Map<string, string>();
    const flags = new Set<string>();
    for (const line of body.split('\n')) {
      const m = /^\s+- (.*)$/.exec(line);
      if (!m) continue;
      const item = m[1]!.trim();
      const colon = item.indexOf(': ');
      if (colon > 0) fields.set(item.slice(0, colon), item.slice(colon + 2).trim());
      else if (item.endsWith(':')) fields.set(item.slice(0, -1), '');
      else flags.add(item);
    }
    const validationText = fields.get('Signature Validation') ?? '';
    const certificateText = fields.get('Certificate Validation') ?? '';
    const ranges = [...(fields.get('Signed Ranges') ?? '').matchAll(/\[(\d+) - (\d+)\]/g)].map(
      (r): [number, number] => [Number(r[1]), Number(r[2])],
    );
    signatures.push({
      index: Number(blocks[i]),
      fieldName: fields.get('Signature Field Name'),
      signerName: fields.get('Signer Certificate Common Name'),
      signerDn: fields.get('Signer full Distinguished Name'),
      signingTime: fields.get('Signing Time'),
      hashAlgorithm: fields.get('Signing Hash Algorithm'),
      subFilter: fields.get('Signature Type'),
      signedRanges: ranges,
      signatureValid: validationText === 'Signature is Valid.',
      validationText,
      certificateText,
      certificateTrusted: certificateText === 'Certificate is Trusted.',
      coversWholeDocument: flags.has('Total document signed'),
      raw: `Signature #${blocks[i]}:${body}`.trimEnd(),
    });
  }
  return signatures;
}

const nssDbs = new Map<string, Promise<string>>();
let nssRoot: string | undefined;

/** One NSS database per set of trusted CAs, per process; removed when the process exits. */
/**
 * pdfsig's NSS loads PKCS#11 modules through p11-kit, and Debian's softhsm2 registers itself there: a SOFTHSM2_CONF
 * left in the environment by a test's token makes NSS open that token too, and pdfsig then reports "Unknown issue
 * with Certificate" for chains it otherwise trusts. The verifier runs without it, as it would on another machine.
 */
function nssEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SOFTHSM2_CONF;
  return env;
}

function throwawayNssDb(trustCaPems: readonly string[]): Promise<string> {
  const key = [...trustCaPems].sort().join('\n');
  let db = nssDbs.get(key);
  if (!db) {
    if (!nssRoot) {
      const root = mkdtempSync(join(tmpdir(), 'seald-test-nss-'));
      nssRoot = root;
      process.once('exit', () => rmSync(root, { recursive: true, force: true }));
    }
    db = createNssDb(join(nssRoot, `db${nssDbs.size}`), { trustCaPems });
    nssDbs.set(key, db);
  }
  return db;
}
