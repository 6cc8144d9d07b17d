/**
 * The seal's kind travels with the seal (issue 22): the seal writer records it in the signature dictionary
 * (/Seald_SealKind /official …, pdf/seal-kind-record.ts) inside the signed bytes, and verify reports it — JSON
 * `sealKind`, the Verify RPC's SignatureVerification.seal_kind, the CLI's table. Changing the recorded kind breaks
 * the signature (pdfsig and seald both say so). Real server on the embedded defaults, real SoftHSM, the seald CLI.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifyRequestSchema, VerifyService, type VerifyResponse } from '../../src/gen/seald/v1/verify_pb.ts';
import { grpcClientConstructor } from '../../src/rpc/grpc-service.ts';
import { fixture } from '../fixtures/index.ts';
import { run } from '../support/run.ts';
import { extractSignatures, pdfsig } from '../support/tools.ts';
import { BIN, startServe, type ServeProcess } from '../deploy/serve-process.ts';

let root: string;
let dataDir: string;
let server: ServeProcess;
let sealed: string;
let anchor: string;

const seald = (args: string[]) => run(process.execPath, [BIN, ...args], { env: { ...process.env, SEALD_DATA_DIR: dataDir, SEALD_CONFIG: '' } });

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-kind-record-'));
  dataDir = path.join(root, 'data');
  server = await startServe(['--data-dir', dataDir]);
  anchor = path.join(dataDir, 'ca/dev-ca.pem');
  const org = path.join(root, 'org.pdf');
  sealed = path.join(root, 'org-personal.pdf');
  const first = await seald(['seal', '--server', server.address, '--seal', 'org', '--page', '1', '--x', '200', '--y', '200', await fixture('simple'), '-o', org]);
  expect(first.code, first.stderr).toBe(0);
  const second = await seald(['seal', '--server', server.address, '--seal', 'personal', '--page', '1', '--x', '400', '--y', '200', org, '-o', sealed]);
  expect(second.code, second.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the seal kind in the signature dictionary', () => {
  it('is written inside the signed byte ranges of each seal', async () => {
    const bytes = fs.readFileSync(sealed);
    const text = bytes.toString('latin1');
    const signatures = await extractSignatures(sealed);
    expect(signatures).toHaveLength(2);
    for (const [index, kind] of [[0, 'official'], [1, 'personal']] as const) {
      const [a, b, c, d] = signatures[index]!.byteRange;
      const at = text.indexOf(`/Seald_SealKind /${kind}`);
      expect(at, kind).toBeGreaterThan(0);
      // Covered: in [a, a+b) or [c, c+d), never in the /Contents gap.
      expect((at >= a && at < a + b) || (at >= c && at < c + d), kind).toBe(true);
    }
  });

  it('verify reports it: offline JSON `sealKind`, the Verify RPC, and the table', async () => {
    const offline = await seald(['verify', sealed, '--json', '--trust', anchor]);
    expect(offline.code, offline.stderr).toBe(0);
    const report = JSON.parse(offline.stdout.toString()) as { signatures: { sealKind: string | null; verdict: string }[] };
    expect(report.signatures.map((s) => [s.sealKind, s.verdict])).toEqual([['official', 'VALID'], ['personal', 'VALID']]);

    const remote = await seald(['verify', sealed, '--json', '--server', server.address]);
    expect(remote.code, remote.stderr).toBe(0);
    expect((JSON.parse(remote.stdout.toString()) as typeof report).signatures.map((s) => s.sealKind)).toEqual(['official', 'personal']);

    const table = await seald(['verify', sealed, '--trust', anchor]);
    expect(table.stdout.toString()).toMatch(/seal kind\s+official/);
    expect(table.stdout.toString()).toMatch(/seal kind\s+personal/);
  });

  it('the Verify RPC sets SignatureVerification.seal_kind', async () => {
    const client = new (grpcClientConstructor(VerifyService))(server.address, grpc.credentials.createInsecure());
    try {
      const bytes = fs.readFileSync(sealed);
      const response = await new Promise<VerifyResponse>((resolve, reject) => {
        const call = client.verify(new grpc.Metadata(), {}, (error, value) => (error !== null || value === undefined ? reject(error) : resolve(value)));
        call.write(create(VerifyRequestSchema, { payload: { case: 'header', value: { documentSize: BigInt(bytes.length) } } }));
        call.write(create(VerifyRequestSchema, { payload: { case: 'chunk', value: bytes } }));
        call.end();
      });
      expect(response.signatures.map((s) => s.sealKind)).toEqual(['official', 'personal']);
    } finally {
      client.close();
    }
  });

  it('a changed kind breaks the signature', async () => {
    const bytes = fs.readFileSync(sealed);
    const at = bytes.indexOf('/Seald_SealKind /personal');
    // Same length: only the claim changes, no offset moves.
    const forged = Buffer.concat([bytes.subarray(0, at), Buffer.from('/Seald_SealKind /contract'), bytes.subarray(at + '/Seald_SealKind /personal'.length)]);
    expect(forged.length).toBe(bytes.length);
    const file = path.join(root, 'forged.pdf');
    fs.writeFileSync(file, forged);
    const poppler = await pdfsig(file, { trustCaPems: [anchor] });
    expect(poppler.signatures.map((s) => s.signatureValid)).toEqual([true, false]);
    const verified = await seald(['verify', file, '--json', '--trust', anchor]);
    const report = JSON.parse(verified.stdout.toString()) as { signatures: { integrity: string; verdict: string }[] };
    expect(report.signatures[1]).toMatchObject({ integrity: 'DIGEST_MISMATCH', verdict: 'INVALID' });
    expect(verified.code).not.toBe(0);
  });
});
