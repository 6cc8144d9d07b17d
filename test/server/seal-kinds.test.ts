/**
 * Seal kinds at the gRPC edge (issue 22): ListSeals names each seal's kind (公章 official, 合同专用章 contract, 财务专用章
 * finance, 发票专用章 invoice, 法定代表人章 legal representative, 个人章 personal), and a policy grant by kind ("procurement
 * may use contract seals") covers every seal of that kind and no other, including a seal of that kind that the
 * policy never names by id.
 */
import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSeals, sealRemote, type SealClient } from '../../src/cli/client.ts';
import { SealHeaderSchema, SealKind } from '../../src/gen/seald/v1/seald_pb.ts';
import { startAccessHarness, type AccessHarness } from './access-harness.ts';
import { fakeSeal } from './harness.ts';

let h: AccessHarness;

beforeAll(async () => {
  h = await startAccessHarness({
    // Without TLS every caller is `anonymous`: the policy grants it contract seals by kind.
    policy: `
principals:
  - name: procurement
    match: { anonymous: true }
    grants:
      - kinds: [contract]
        operations: [seal]
      - operations: [list]
`,
    seals: [
      fakeSeal('hq', 'official'),
      fakeSeal('contract-a', 'contract'),
      fakeSeal('contract-b', 'contract'),
      fakeSeal('finance', 'finance'),
      fakeSeal('invoice', 'invoice'),
      fakeSeal('legal-rep', 'legal_representative'),
      fakeSeal('li', 'personal'),
    ],
  });
});
afterAll(async () => h?.close());

function seal(client: SealClient, sealId: string) {
  return sealRemote(
    client,
    create(SealHeaderSchema, { sealId, placement: { kind: { case: 'position', value: { page: 1, x: 100, y: 100 } } } }),
    (async function* () {
      yield new TextEncoder().encode('%PDF-1.7\n% test document\n');
    })(),
    () => undefined,
    { deadline: new Date(Date.now() + 10_000) },
  );
}

describe('seal kinds', () => {
  it('a grant by kind covers every seal of that kind and no other', async () => {
    const client = h.client();
    expect((await seal(client, 'contract-a')).fieldName).toBe('Seal1');
    expect((await seal(client, 'contract-b')).fieldName).toBe('Seal1');
    for (const other of ['hq', 'finance', 'invoice', 'legal-rep', 'li']) {
      const error = (await seal(client, other).catch((e: unknown) => e)) as { code: number; details: string };
      expect(error.code, other).toBe(status.PERMISSION_DENIED);
      expect(error.details).toContain(`seal on seal "${other}"`);
    }
    expect(h.records().filter((r) => r.result === 'ok').map((r) => r.sealId)).toEqual(['contract-a', 'contract-b']);
  });

  it('ListSeals names the kind of each seal the caller may use', async () => {
    const { seals } = await listSeals(h.client());
    expect(seals.map((s) => [s.id, s.kind])).toEqual([
      ['contract-a', SealKind.CONTRACT],
      ['contract-b', SealKind.CONTRACT],
    ]);
    // Every kind on the wire: grant the caller every seal and list again.
    await h.writePolicy('principals:\n  - name: all\n    match: { anonymous: true }\n    grants:\n      - seals: ["*"]\n        operations: [seal, list]\n');
    const all = await listSeals(h.client());
    expect(all.seals.map((s) => [s.id, SealKind[s.kind]])).toEqual([
      ['hq', 'ORGANIZATION'],
      ['contract-a', 'CONTRACT'],
      ['contract-b', 'CONTRACT'],
      ['finance', 'FINANCE'],
      ['invoice', 'INVOICE'],
      ['legal-rep', 'LEGAL_REPRESENTATIVE'],
      ['li', 'PERSONAL'],
    ]);
  });
});
