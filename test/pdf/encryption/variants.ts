/**
 * Encrypted variants of the `simple` fixture, written by qpdf (an independent implementation of the standard security
 * handler) into a scratch directory, one per revision and method seald reads, and qpdf's own view of them (JSON v2:
 * every object with strings and stream data decrypted, and the encryption parameters) as the oracle to compare with.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../../fixtures/index.ts';
import { qpdfRewrite } from '../../fixtures/qpdf-variants.ts';
import { run, runOk } from '../../support/run.ts';

export interface Variant {
  name: string;
  user: string;
  owner: string;
  /** qpdf options before --encrypt (object streams) and inside it (key length, permissions). */
  before?: string[];
  encrypt: string[];
  revision: number;
  algorithm: string;
}

export const OWNER = 'owner-pw';
export const USER = 'user-pw';

export const VARIANTS: Variant[] = [
  { name: 'r2-rc4-40', user: USER, owner: OWNER, before: ['--allow-weak-crypto'], encrypt: ['40'], revision: 2, algorithm: 'RC4-40' },
  { name: 'r3-rc4-128', user: USER, owner: OWNER, before: ['--allow-weak-crypto'], encrypt: ['128', '--use-aes=n'], revision: 3, algorithm: 'RC4-128' },
  { name: 'r4-rc4-128', user: USER, owner: OWNER, before: ['--allow-weak-crypto'], encrypt: ['128', '--use-aes=n', '--force-V4'], revision: 4, algorithm: 'RC4-128' },
  { name: 'r4-aes-128', user: USER, owner: OWNER, encrypt: ['128', '--use-aes=y'], revision: 4, algorithm: 'AES-128' },
  { name: 'r4-aes-128-clear-metadata', user: USER, owner: OWNER, encrypt: ['128', '--use-aes=y', '--cleartext-metadata'], revision: 4, algorithm: 'AES-128' },
  { name: 'r5-aes-256', user: USER, owner: OWNER, before: ['--allow-weak-crypto'], encrypt: ['256', '--force-R5'], revision: 5, algorithm: 'AES-256' },
  { name: 'r6-aes-256', user: USER, owner: OWNER, encrypt: ['256'], revision: 6, algorithm: 'AES-256' },
  { name: 'r6-aes-256-object-streams', user: USER, owner: OWNER, before: ['--object-streams=generate'], encrypt: ['256'], revision: 6, algorithm: 'AES-256' },
  { name: 'r3-rc4-object-streams', user: USER, owner: OWNER, before: ['--allow-weak-crypto', '--object-streams=generate'], encrypt: ['128', '--use-aes=n'], revision: 3, algorithm: 'RC4-128' },
  { name: 'r6-empty-user', user: '', owner: OWNER, encrypt: ['256'], revision: 6, algorithm: 'AES-256' },
  { name: 'r4-aes-empty-user', user: '', owner: OWNER, encrypt: ['128', '--use-aes=y'], revision: 4, algorithm: 'AES-128' },
];

let scratch: Promise<string> | undefined;
const built = new Map<string, Promise<string>>();

/** The variant's file (built once per test process). */
export function variantFile(v: Variant, source: 'simple' | 'acroform' = 'simple'): Promise<string> {
  const key = `${v.name}-${source}`;
  let file = built.get(key);
  if (!file) {
    file = (async () => {
      scratch ??= mkdtemp(join(tmpdir(), 'seald-crypt-'));
      const dir = await scratch;
      const name = `${key}.pdf`;
      const [bits, ...options] = v.encrypt;
      await qpdfRewrite(dir, name, await fixture(source), [...(v.before ?? []), '--encrypt', v.user, v.owner, bits!, ...options, '--']);
      return join(dir, name);
    })();
    built.set(key, file);
  }
  return file;
}

/** An encrypted copy of `source` with the given qpdf --encrypt arguments (passwords included). */
export async function encryptWith(source: string, name: string, encryptArgs: string[]): Promise<string> {
  scratch ??= mkdtemp(join(tmpdir(), 'seald-crypt-'));
  const out = join(await scratch, name);
  await runOk('qpdf', ['--encrypt', ...encryptArgs, '--', source, out]);
  return out;
}

/** qpdf's JSON v2 object (`value` or `stream` with base64 `data` still filtered, decrypted), by "N G". */
export type QpdfJsonObject = { value?: unknown; stream?: { dict: Record<string, unknown>; data: string } };

export interface QpdfView {
  objects: Map<string, QpdfJsonObject>;
  encrypt: {
    capabilities: Record<string, boolean>;
    ownerpasswordmatched: boolean;
    userpasswordmatched: boolean;
    parameters: { P: number; R: number; V: number; bits: number; method: string };
  };
}

export async function qpdfView(file: string, password: string): Promise<QpdfView> {
  const args = ['--json=2', '--json-stream-data=inline', '--decode-level=none', `--password=${password}`, file];
  const result = await run('qpdf', args);
  if (result.code !== 0 && result.code !== 3) throw new Error(`qpdf --json failed (${result.code}): ${result.stderr}`);
  const json = JSON.parse(result.stdout.toString('utf8')) as { qpdf: [unknown, Record<string, QpdfJsonObject>]; encrypt: QpdfView['encrypt'] };
  const objects = new Map<string, QpdfJsonObject>();
  for (const [key, value] of Object.entries(json.qpdf[1])) {
    const m = /^obj:(\d+) (\d+) R$/.exec(key);
    if (m) objects.set(`${m[1]} ${m[2]}`, value);
  }
  return { objects, encrypt: json.encrypt };
}

export { readFile };
