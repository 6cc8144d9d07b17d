/**
 * Seal management without restarts (issue 22): edit seald.yaml, send SIGHUP, and the seals change — an added seal
 * seals, a removed one is refused, a seal whose new certificate does not match its key is refused at reload with a
 * log line naming it while the old one stays in service; a seal call in flight across the reload (its seal removed
 * meanwhile) finishes with the seal it started with (pdfsig valid). Real SoftHSM token and engine.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, listSeals, sealRemote, type SealClient } from '../../src/cli/client.ts';
import type { SealdConfig } from '../../src/config/config.ts';
import { SealHeaderSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { loadServerConfig, startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { fixture } from '../fixtures/index.ts';
import { pdfsig } from '../support/tools.ts';

let dataDir: string;
let config: SealdConfig;
let server: SealdServer;
let client: SealClient;
let original: string;
const logs: { msg: string; [key: string]: unknown }[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-reload-'));
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
  server = await startSealdServer(config, logger);
  client = connect(server.address);
  original = fs.readFileSync(config.configPath, 'utf8');
}, 120_000);

afterAll(async () => {
  client?.close();
  await server?.shutdown('tests over');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function reload(): Promise<Record<string, unknown>> {
  const before = logs.filter((l) => l.msg === 'seals reloaded').length;
  process.emit('SIGHUP', 'SIGHUP');
  const deadline = Date.now() + 20_000;
  while (logs.filter((l) => l.msg === 'seals reloaded').length === before) {
    if (Date.now() > deadline) throw new Error('no reload within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return logs.filter((l) => l.msg === 'seals reloaded').at(-1)!;
}

function sealCall(sealId: string, chunks: () => AsyncIterable<Uint8Array>, size: number) {
  const out: Uint8Array[] = [];
  return sealRemote(
    client,
    create(SealHeaderSchema, { sealId, documentSize: BigInt(size), placement: { kind: { case: 'position', value: { page: 1, x: 200, y: 200 } } } }),
    chunks(),
    async (chunk) => void out.push(chunk),
  ).then(() => Buffer.concat(out));
}

async function sealOnce(sealId: string): Promise<Buffer> {
  const bytes = fs.readFileSync(await fixture('simple'));
  return sealCall(sealId, async function* () { yield bytes; }, bytes.byteLength);
}

describe('seal reload (SIGHUP)', () => {
  it('adds, removes and refuses a mismatched certificate while the old seal stays; an in-flight call keeps its seal', async () => {
    // An upload in flight on `personal`, which the reload removes.
    const bytes = fs.readFileSync(await fixture('simple'));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inFlight = sealCall(
      'personal',
      async function* () {
        yield bytes.subarray(0, 100);
        await gate;
        yield bytes.subarray(100);
      },
      bytes.byteLength,
    );
    await new Promise((resolve) => setTimeout(resolve, 300)); // the header is in: the call holds its seal

    const edited = original
      // added: a second seal on the org key
      .replace('seals:\n', `seals:\n  - id: org-contract\n    kind: contract\n    name: 合同专用章\n    key: org\n    certificates: seals/org.chain.pem\n    image: seals/org.svg\n    size_mm: 40\n`)
      // changed to a certificate for another key (a file instead of the token's): refused, the old org stays
      .replace(/(    key: org .*\n)/, '$1    certificates: seals/personal.chain.pem\n')
      // removed: personal
      .replace(/  - id: personal\n(?:    .*\n)+?(?=  - id: )/, '');
    expect(edited).not.toBe(original);
    fs.writeFileSync(config.configPath, edited);
    const result = await reload();
    expect(result).toMatchObject({ added: ['org-contract'], removed: ['personal'], refused: ['org'] });
    const refusal = logs.find((l) => l.msg.startsWith('seal "org" not reloaded'));
    expect(refusal?.msg).toMatch(/does not match the key.*the previous one stays in service/);

    release();
    const output = path.join(dataDir, 'in-flight.pdf');
    fs.writeFileSync(output, await inFlight);
    expect((await pdfsig(output, { trustCaPems: config.trust.anchors })).signatures.map((s) => [s.validationText, s.signerName])).toEqual([
      ['Signature is Valid.', '张三'],
    ]);

    expect((await listSeals(client)).seals.map((s) => s.id)).toEqual(['org-contract', 'org', 'legal-rep']);
    const added = path.join(dataDir, 'added.pdf');
    fs.writeFileSync(added, await sealOnce('org-contract'));
    expect((await pdfsig(added, { trustCaPems: config.trust.anchors })).signatures.map((s) => s.validationText)).toEqual(['Signature is Valid.']);
    const kept = path.join(dataDir, 'kept.pdf');
    fs.writeFileSync(kept, await sealOnce('org'));
    expect((await pdfsig(kept, { trustCaPems: config.trust.anchors })).signatures[0]!.signerName).toContain('示例商贸有限公司');
    const gone = await sealOnce('personal').catch((e: grpc.ServiceError) => e);
    expect((gone as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
  }, 180_000);
});
