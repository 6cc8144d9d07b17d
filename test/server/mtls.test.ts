/**
 * Mutual TLS on the gRPC port with certificates from the seald development CA: a verified client is served and named
 * in the audit record; an unknown (self-signed), expired, other-CA or missing client certificate fails the
 * handshake — the client sees UNAVAILABLE and the server logs the refusal with its reason.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { listSeals, sealRemote } from '../../src/cli/client.ts';
import { SealHeaderSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { fileURLToPath } from 'node:url';
import { run } from '../support/run.ts';
import { startAccessHarness, type AccessHarness } from './access-harness.ts';
import { clientTlsOf, createTlsPki, type KeyPair, type TlsPki } from './tls-pki.ts';

let pki: TlsPki;
let h: AccessHarness;

beforeAll(async () => {
  pki = await createTlsPki(fs.mkdtempSync(path.join(os.tmpdir(), 'seald-tls-pki-')));
  h = await startAccessHarness({ tls: { cert: pki.server.cert, key: pki.server.key, clientCa: pki.ca } });
}, 60_000);
afterAll(async () => {
  await h?.close();
  fs.rmSync(pki.dir, { recursive: true, force: true });
});

const deadline = () => ({ deadline: new Date(Date.now() + 5000) });

function handshakeRefusals(): Record<string, unknown>[] {
  return h.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.msg === 'TLS handshake refused');
}

describe('mutual TLS', () => {
  it('serves a client whose certificate the client CA issued, and records its identity', async () => {
    const { seals } = await listSeals(h.client(clientTlsOf(pki, pki.erp)), { ...deadline(), requestId: 'tls-ok' });
    expect(seals.map((s) => s.id).sort()).toEqual(['org', 'personal']);
    // ListSeals successes are not audited; a refusal is: an unknown seal (NOT_FOUND, after authorisation).
    const error = await sealRemote(
      h.client(clientTlsOf(pki, pki.erp)),
      create(SealHeaderSchema, { sealId: 'nope', placement: { kind: { case: 'position', value: { page: 1, x: 1, y: 1 } } } }),
      (async function* () {})(),
      () => undefined,
      deadline(),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: status.NOT_FOUND });
    const record = h.records().find((r) => r.operation === 'seal');
    expect(record).toMatchObject({ principal: 'CN=erp, O=Acme', result: 'NOT_FOUND', errorCode: 'SEAL_NOT_FOUND', sealId: 'nope' });
    expect(record!.clientCertificateSerial).toMatch(/^[0-9A-F]+$/);
  });

  const refused: [string, (p: TlsPki) => KeyPair | undefined, RegExp][] = [
    ['a self-signed (unknown) client certificate', (p) => p.unknown, /^DEPTH_ZERO_SELF_SIGNED_CERT$/],
    ['an expired client certificate from the right CA', (p) => p.expired, /^CERT_HAS_EXPIRED$/],
    ['a client certificate from another CA', (p) => p.foreign, /^UNABLE_TO_VERIFY_LEAF_SIGNATURE$/],
    ['no client certificate', () => undefined, /^NO_CLIENT_CERTIFICATE$/],
  ];
  for (const [name, pick, reason] of refused) {
    it(`refuses ${name}: UNAVAILABLE for the client, a logged refusal on the server`, async () => {
      const before = handshakeRefusals().length;
      const pair = pick(pki);
      const tls = pair === undefined
        ? { ca: fs.readFileSync(pki.ca), cert: undefined as unknown as Buffer, key: undefined as unknown as Buffer }
        : clientTlsOf(pki, pair);
      const error = await listSeals(h.client(tls), deadline()).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: status.UNAVAILABLE });
      const refusals = handshakeRefusals().slice(before);
      expect(refusals.length).toBeGreaterThan(0);
      expect(String(refusals[0]!.reason)).toMatch(reason);
    });
  }

  it('refuses a plaintext client on the TLS port', async () => {
    const error = await listSeals(h.client(), deadline()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: status.UNAVAILABLE });
  });
  it('the CLI connects with --tls-ca/--tls-cert/--tls-key or SEALD_TLS_*, and refuses half of them', async () => {
    const bin = fileURLToPath(new URL('../../bin/seald.mjs', import.meta.url));
    const server = ['--server', `localhost:${h.server.port}`]; // the certificate's DNS name (an IP as TLS server name draws a Node deprecation warning)
    const byFlags = await run(process.execPath, [bin, 'seals', ...server, '--tls-ca', pki.ca, '--tls-cert', pki.clerk.cert, '--tls-key', pki.clerk.key, '--json']);
    expect(byFlags.stderr).toBe('');
    expect((JSON.parse(byFlags.stdout.toString()) as { seals: { id: string }[] }).seals.map((s) => s.id).sort()).toEqual(['org', 'personal']);
    const byEnv = await run(process.execPath, [bin, 'seals', ...server, '--json'], {
      env: { ...process.env, SEALD_TLS_CA: pki.ca, SEALD_TLS_CERT: pki.erp.cert, SEALD_TLS_KEY: pki.erp.key },
    });
    expect(byEnv.code).toBe(0);
    const half = await run(process.execPath, [bin, 'seals', ...server, '--tls-ca', pki.ca]);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('mutual TLS needs --tls-ca, --tls-cert and --tls-key');
  });
});
