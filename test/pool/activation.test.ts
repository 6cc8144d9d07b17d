/**
 * Signature activation (issue 22) on a real SoftHSM token, through a real server (bootstrap → pool → gRPC): a key
 * generated with CKA_ALWAYS_AUTHENTICATE signs only after C_Login(CKU_CONTEXT_SPECIFIC) with the holder's PIN. On
 * SoftHSM that PIN is the token's user PIN (it has no per-key PIN). The token's own count of context logins is taken
 * by the fault injector around the real module ("C_Login/2"), independently of seald's bookkeeping.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { create } from '@bufbuild/protobuf';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealBatch, connectBatch, type BatchInput, type BatchResult } from '../../src/cli/batch-client.ts';
import { isServiceError, sealdErrorCode, sealRemote, type SealClient, connect } from '../../src/cli/client.ts';
import { derToPem } from '../../src/crypto/certificate.ts';
import { createDevCa, issueEndEntityCertificate } from '../../src/crypto/dev-ca.ts';
import { loadConfig } from '../../src/config/config.ts';
import { SealHeaderSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { generateKeyPair } from '../../src/pool/admin.ts';
import { drawOrganizationSeal, drawPersonalSeal } from '../../src/provision/seal-image.ts';
import { startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { pdfsig } from '../support/tools.ts';
import { FaultInjector } from './fault-injector.ts';
import { paddedPdf } from './service-setup.ts';
import { openPkcs11Path, PKCS11_PATHS, type Pkcs11Path } from './pkcs11-paths.ts';
import { createSoftHsm, SOFTHSM_MODULE, type SoftHsm } from './softhsm.ts';

const PIN = 'holder-PIN-2718';
const CONTEXT_LOGIN = 'C_Login/2';

let hsm: SoftHsm;
let p11: Pkcs11Path;
let injector: FaultInjector;
let server: SealdServer;
let client: SealClient;
let dir: string;
let caPem: string;
const logs: string[] = [];
let pdf: Uint8Array;

async function* bytesOf(data: Uint8Array): AsyncIterable<Uint8Array> {
  yield data;
}

function header(sealId: string, pin?: string) {
  return create(SealHeaderSchema, {
    sealId,
    placement: { kind: { case: 'position', value: { page: 1, x: 200, y: 300 } } },
    ...(pin === undefined ? {} : { activation: { pin: Buffer.from(pin) } }),
  });
}

async function seal(sealId: string, pin?: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await sealRemote(client, header(sealId, pin), bytesOf(pdf), (chunk) => void parts.push(Buffer.from(chunk)));
  return Buffer.concat(parts);
}

async function refusal(sealId: string, pin?: string): Promise<{ code: number; sealdCode: string | undefined; message: string }> {
  try {
    await seal(sealId, pin);
  } catch (error) {
    if (!isServiceError(error)) throw error;
    return { code: error.code, sealdCode: sealdErrorCode(error), message: error.details };
  }
  throw new Error('sealed, but a refusal was expected');
}

async function startServer(extraYaml: string[] = []): Promise<void> {
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(chunk.toString('utf8'));
        callback();
      },
    }),
  );
  await writeFile(
    join(dir, 'seald.yaml'),
    [
      'listen: 127.0.0.1:0',
      'metrics: off',
      'limits:',
      `  tmp_dir: ${join(dir, 'spool')}`,
      'batch: { idempotency_window_seconds: 0 }',
      'pkcs11:',
      `  module: ${p11.module}`,
      `  env: ${JSON.stringify(p11.env)}`,
      '  tokens:',
      '    - { label: act, pin: { file: pin } }',
      'seals:',
      '  - { id: org, kind: organization, name: Org, key: org, certificates: org.pem, image: org.png, size_mm: 40 }',
      '  - { id: holder, kind: personal, name: Holder, key: holder, certificates: holder.pem, image: holder.png, size_mm: 20, activation: required }',
      'activation:',
      '  max_failures: 3',
      '  window_seconds: 900',
      '  cool_down_seconds: 900',
      '  insecure_accept_pins_over_plaintext_for_development: true',
      ...extraYaml,
      '',
    ].join('\n'),
  );
  const config = await loadConfig({ flags: { config: join(dir, 'seald.yaml') }, env: {} });
  server = await startSealdServer(config, logger, { healthIntervalMs: 1000 });
  client = connect(server.address);
}

describe.each(PKCS11_PATHS)('SoftHSM through %s', (pathName) => {
  beforeAll(async () => {
    hsm = await createSoftHsm();
    await hsm.initToken('act', PIN);
    p11 = await openPkcs11Path(pathName, hsm);
    injector = FaultInjector.install(p11.module, p11.env);
    const admin = { env: hsm.env };
    const holderSpki = generateKeyPair(SOFTHSM_MODULE, 'act', PIN, { label: 'holder', type: 'EC-P256', alwaysAuthenticate: true, ...admin });
    const orgSpki = generateKeyPair(SOFTHSM_MODULE, 'act', PIN, { label: 'org', type: 'RSA-2048', ...admin });
    const ca = await createDevCa();
    dir = await mkdtemp(join(hsm.dir, 'server-'));
    await mkdir(join(dir, 'spool'));
    caPem = join(dir, 'ca.pem');
    await writeFile(caPem, derToPem(ca.certificate));
    const validity = { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) };
    for (const [name, spki] of [['holder', holderSpki], ['org', orgSpki]] as const) {
      const certificate = await issueEndEntityCertificate({ ca, subjectPublicKeyInfo: spki, subject: { commonName: name }, validity });
      await writeFile(join(dir, `${name}.pem`), derToPem(certificate) + derToPem(ca.certificate));
    }
    await writeFile(join(dir, 'org.png'), drawOrganizationSeal({ sizePx: 160, name: 'Org' }));
    await writeFile(join(dir, 'holder.png'), drawPersonalSeal({ sizePx: 120, name: 'Holder' }));
    await writeFile(join(dir, 'pin'), `${PIN}\n`, { mode: 0o600 });
    pdf = await paddedPdf(4000);
    await startServer();
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await server?.shutdown('test over');
    injector?.uninstall();
    await p11?.close();
    if (hsm !== undefined) await rm(hsm.dir, { recursive: true, force: true });
  });

  describe('signature activation on SoftHSM (CKA_ALWAYS_AUTHENTICATE)', () => {
    it('seals with the right PIN: one context login, and pdfsig says valid', async () => {
      const before = injector.count(CONTEXT_LOGIN);
      const sealed = await seal('holder', PIN);
      expect(injector.count(CONTEXT_LOGIN) - before).toBe(1);
      const file = join(dir, 'right-pin.pdf');
      await writeFile(file, sealed);
      const report = await pdfsig(file, { trustCaPems: [caPem], noOcsp: true });
      expect(report.signatures.at(-1)?.validationText).toBe('Signature is Valid.');
    });

    it('refuses without a PIN before any token call', async () => {
      const calls = [...injector.counts.values()].reduce((a, b) => a + b, 0);
      const refused = await refusal('holder');
      expect(refused.sealdCode).toBe('ACTIVATION_REQUIRED');
      expect(refused.code).toBe(9); // FAILED_PRECONDITION
      // No PKCS#11 call at all for this request (the keep-alive probe runs every 30 s, not within this test).
      expect([...injector.counts.values()].reduce((a, b) => a + b, 0)).toBe(calls);
    });

    it('a wrong PIN is PERMISSION_DENIED after exactly one context login, never quarantines, and a right PIN works next', async () => {
      const before = injector.count(CONTEXT_LOGIN);
      const userLogins = injector.count('C_Login/1');
      const refused = await refusal('holder', 'wrong-PIN');
      expect(refused.code).toBe(7); // PERMISSION_DENIED
      expect(refused.sealdCode).toBe('ACTIVATION_FAILED');
      // SoftHSM sets CKF_USER_PIN_COUNT_LOW after a wrong PIN (it never locks: NOTES.md); the message passes it on.
      expect(refused.message).toMatch(/few attempts remain|last attempt/);
      expect(injector.count(CONTEXT_LOGIN) - before).toBe(1);
      expect(injector.count('C_Login/1')).toBe(userLogins); // no user re-login, no retry
      // The token stays ready: the unactivated seal and the right PIN both still sign.
      await seal('org');
      await seal('holder', PIN);
      expect(injector.count(CONTEXT_LOGIN) - before).toBe(2);
    });

    it('a seal without activation is unaffected and makes no context login; a PIN sent to it is discarded', async () => {
      const before = injector.count(CONTEXT_LOGIN);
      const sealed = await seal('org');
      await seal('org', 'ignored');
      expect(injector.count(CONTEXT_LOGIN) - before).toBe(0);
      const file = join(dir, 'org.pdf');
      await writeFile(file, sealed);
      const report = await pdfsig(file, { trustCaPems: [caPem], noOcsp: true });
      expect(report.signatures.at(-1)?.validationText).toBe('Signature is Valid.');
    });

    it('a batch signs each document with its own activation: one context login per document', async () => {
      const batch = connectBatch(server.address);
      try {
        const before = injector.count(CONTEXT_LOGIN);
        const inputs: BatchInput[] = Array.from({ length: 6 }, (_, i) => ({
          id: `doc-${i}`,
          sealId: 'holder',
          read: () => bytesOf(pdf),
          size: pdf.byteLength,
          placement: { kind: { case: 'position', value: { page: 1, x: 100, y: 100 } } },
          activationPin: Buffer.from(PIN),
        }));
        const results: BatchResult[] = [];
        await sealBatch(batch, { sealId: 'holder' }, inputs, { onResult: (result) => void results.push(result) });
        expect(results.filter((r) => !r.ok)).toEqual([]);
        expect(results.filter((r) => r.ok)).toHaveLength(6);
        expect(injector.count(CONTEXT_LOGIN) - before).toBe(6);
      } finally {
        batch.close();
      }
    });

    it('throttles a seal after repeated wrong PINs, before the token locks the holder', async () => {
      // One wrong PIN was cleared by the right one in an earlier test; start a fresh count.
      const before = injector.count(CONTEXT_LOGIN);
      for (let i = 0; i < 3; i++) expect((await refusal('holder', `wrong-${i}`)).sealdCode).toBe('ACTIVATION_FAILED');
      expect(injector.count(CONTEXT_LOGIN) - before).toBe(3);
      const throttled = await refusal('holder', PIN);
      expect(throttled.sealdCode).toBe('ACTIVATION_THROTTLED');
      expect(throttled.code).toBe(8); // RESOURCE_EXHAUSTED
      expect(throttled.message).toMatch(/retry after \d+ s/);
      expect(injector.count(CONTEXT_LOGIN) - before).toBe(3); // the token saw no fourth attempt
      // Other seals keep working.
      await seal('org');
    });

    it('never writes a PIN to the log', () => {
      const text = logs.join('');
      expect(text.length).toBeGreaterThan(0);
      for (const secret of [PIN, 'wrong-PIN', 'wrong-0', 'wrong-1', 'wrong-2', 'ignored']) expect(text).not.toContain(secret);
      expect(text).toContain('signature activation refused by the token');
    });
  });
});
