/**
 * The policy at the gRPC edge, with mutual TLS principals from the development CA: seals outside a principal's
 * grants are refused with PERMISSION_DENIED naming the missing permission (and nothing about other seals), ListSeals
 * shows only usable seals, expired / page-limited / suspended grants refuse, and a grant revoked by editing the file
 * while the server runs refuses the next call while a call already in flight finishes. Every refusal is audited.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSeals, sealRemote, type ClientTls, type SealClient } from '../../src/cli/client.ts';
import { SealHeaderSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { startAccessHarness, type AccessHarness } from './access-harness.ts';
import { fakeSealDocument } from './harness.ts';
import { clientTlsOf, createTlsPki, type TlsPki } from './tls-pki.ts';

const POLICY = `
principals:
  - name: acme-erp
    match: { subject: { O: Acme, CN: erp }, san: ["URI:spiffe://acme/erp"] }
    grants:
      - seals: [org]
        operations: [seal, list]
  - name: acme-clerk
    match: { subject: { CN: clerk } }
    grants:
      - seals: [personal]
        operations: [seal]
        not_after: 2020-01-01T00:00:00Z
      - operations: [list]
  - name: globex
    match: { subject: { O: Globex } }
    grants:
      - seals: ["*"]
        operations: [seal]
        pages: [1, "3-4"]
`;

let pki: TlsPki;
let h: AccessHarness;
let erp: ClientTls;

beforeAll(async () => {
  pki = await createTlsPki(fs.mkdtempSync(path.join(os.tmpdir(), 'seald-authz-pki-')));
  erp = clientTlsOf(pki, pki.erp);
  h = await startAccessHarness({
    tls: { cert: pki.server.cert, key: pki.server.key, clientCa: pki.ca },
    policy: POLICY,
    sealDocument: fakeSealDocument({ delayMs: 300 }),
  });
}, 60_000);
afterAll(async () => {
  await h?.close();
  fs.rmSync(pki.dir, { recursive: true, force: true });
});

function seal(client: SealClient, sealId: string, page = 1) {
  return sealRemote(
    client,
    create(SealHeaderSchema, { sealId, placement: { kind: { case: 'position', value: { page, x: 100, y: 100 } } } }),
    (async function* () {
      yield new TextEncoder().encode('%PDF-1.7\n% test document\n');
    })(),
    () => undefined,
    { deadline: new Date(Date.now() + 10_000) },
  );
}

async function refusal(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code: number; details: string } | undefined;
  if (error === undefined) throw new Error('the call succeeded');
  return error;
}

describe('authorisation policy', () => {
  it('lets a principal use the seals it was granted', async () => {
    const summary = await seal(h.client(erp), 'org');
    expect(summary.fieldName).toBe('Seal1');
    const record = h.records().find((r) => r.operation === 'seal' && r.result === 'ok');
    expect(record).toMatchObject({ principal: 'CN=erp, O=Acme', sealId: 'org', certificateSerial: '0a0b', revision: 2 });
  });

  it('refuses a seal the principal was not granted: PERMISSION_DENIED naming the permission, not other seals', async () => {
    const error = await refusal(seal(h.client(erp), 'personal'));
    expect(error.code).toBe(status.PERMISSION_DENIED);
    expect(error.details).toContain('lacks the permission "seal on seal "personal""');
    expect(error.details).not.toContain('org');
    // A seal that does not exist is refused the same way: no way to probe which seals exist.
    const ghost = await refusal(seal(h.client(erp), 'ghost'));
    expect(ghost.code).toBe(status.PERMISSION_DENIED);
    expect(h.records().filter((r) => r.result === 'PERMISSION_DENIED').map((r) => r.sealId)).toEqual(
      expect.arrayContaining(['personal', 'ghost']),
    );
  });

  it('ListSeals shows only the seals the caller may use', async () => {
    expect((await listSeals(h.client(erp))).seals.map((s) => s.id)).toEqual(['org']);
    // The clerk may list, but its only seal grant has ended.
    expect((await listSeals(h.client(clientTlsOf(pki, pki.clerk)))).seals).toEqual([]);
    // globex has no list permission at all.
    const error = await refusal(listSeals(h.client(clientTlsOf(pki, pki.globex))));
    expect(error).toMatchObject({ code: status.PERMISSION_DENIED });
    expect(error.details).toContain('"list"');
  });

  it('refuses a grant whose not_after is past', async () => {
    const error = await refusal(seal(h.client(clientTlsOf(pki, pki.clerk)), 'personal'));
    expect(error.code).toBe(status.PERMISSION_DENIED);
    expect(error.details).toContain('the grant ended on 2020-01-01T00:00:00.000Z');
  });

  it('enforces a grant\'s page limit', async () => {
    const globex = h.client(clientTlsOf(pki, pki.globex));
    await expect(seal(globex, 'org', 3)).resolves.toMatchObject({ pages: [3] });
    const error = await refusal(seal(globex, 'org', 2));
    expect(error.details).toContain('page 2 is outside the pages the grant allows');
    // A multi-page seal's pages are only known once planned: checked then, before anything is signed.
    const multi = (pages: string) =>
      sealRemote(
        globex,
        create(SealHeaderSchema, { sealId: 'org', placement: { kind: { case: 'multiPage', value: { pages, x: 100, y: 100 } } } }),
        (async function* () {
          yield new TextEncoder().encode('%PDF-1.7 test document');
        })(),
        () => undefined,
      );
    await expect(multi('3-4')).resolves.toMatchObject({ pages: [3, 4] });
    expect((await refusal(multi('1-3'))).details).toContain('page 2 is outside the pages the grant allows');
  });

  it('a grant revoked by editing the file refuses the next call; the call in flight finishes', async () => {
    const client = h.client(erp);
    const inFlight = seal(client, 'org'); // the engine takes 300 ms
    await new Promise((resolve) => setTimeout(resolve, 100));
    await h.writePolicy(POLICY.replace('operations: [seal, list]', 'operations: [list]'));
    const error = await refusal(seal(client, 'org'));
    expect(error.code).toBe(status.PERMISSION_DENIED);
    await expect(inFlight).resolves.toMatchObject({ fieldName: 'Seal1' });

    // Suspended (disabled: true) refuses too, and says so; restoring the grant lets the next call through.
    await h.writePolicy(POLICY.replace('  - name: acme-erp\n', '  - name: acme-erp\n    disabled: true\n'));
    expect((await refusal(seal(client, 'org'))).details).toContain('suspended');
    await h.writePolicy(POLICY);
    await expect(seal(client, 'org')).resolves.toMatchObject({ fieldName: 'Seal1' });
  });

  it('keeps the policy in force when the edited file is invalid', async () => {
    const generation = h.policy.generation;
    fs.writeFileSync(h.policyFile!, 'principals:\n  - name: x\n    match: { subject: { CN: x } }\n    grants: [{ operations: [fly] }]\n');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(h.policy.generation).toBe(generation);
    expect(h.logs.some((l) => l.includes('policy not reloaded') && l.includes('unknown operation'))).toBe(true);
    await expect(seal(h.client(erp), 'org')).resolves.toMatchObject({ fieldName: 'Seal1' });
    await h.writePolicy(POLICY);
  });
});
