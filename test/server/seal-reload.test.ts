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
  // The first reload after the signal: saving the file also starts one (config-watch.ts), which finds nothing new.
  return logs.filter((l) => l.msg === 'seals reloaded')[before]!;
}

/** Save the configuration and wait for the reload the file watch starts (no signal). */
async function saveAndWait(text: string): Promise<Record<string, unknown>> {
  const before = logs.filter((l) => l.msg === 'seals reloaded').length;
  fs.writeFileSync(config.configPath, text);
  const deadline = Date.now() + 20_000;
  while (logs.filter((l) => l.msg === 'seals reloaded').length === before) {
    if (Date.now() > deadline) throw new Error('the file watch started no reload within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return logs.filter((l) => l.msg === 'seals reloaded')[before]!;
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

describe('disabled seals and the file watch', () => {
  const disableOrg = (text: string): string => text.replace(/(  - id: org\n)/, '$1    disabled: true\n');

  it('saving `disabled: true` reloads without a signal: listed as disabled, Seal refused with FAILED_PRECONDITION; an in-flight call finishes', async () => {
    const bytes = fs.readFileSync(await fixture('simple'));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inFlight = sealCall(
      'org',
      async function* () {
        yield bytes.subarray(0, 100);
        await gate;
        yield bytes.subarray(100);
      },
      bytes.byteLength,
    );
    await new Promise((resolve) => setTimeout(resolve, 300)); // the header is in: the call holds its seal

    const edited = disableOrg(original);
    expect(edited).toContain('    disabled: true\n');
    const result = await saveAndWait(edited);
    expect(result.changed).toContain('org');
    expect(logs.some((l) => l.msg === 'configuration file changed: reloading the seals')).toBe(true);

    const listed = (await listSeals(client)).seals.find((s) => s.id === 'org')!;
    expect(listed.disabled).toBe(true);
    expect((await listSeals(client)).seals.filter((s) => s.disabled).map((s) => s.id)).toEqual(['org']);
    const refused = (await sealOnce('org').catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(refused.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(refused.details).toMatch(/seal "org" is disabled in the configuration/);
    expect(refused.metadata.get('seald-error-code')).toEqual(['SEAL_DISABLED']);
    // Other seals seal on; the server stays healthy.
    const personal = path.join(dataDir, 'while-disabled.pdf');
    fs.writeFileSync(personal, await sealOnce('personal'));
    expect((await pdfsig(personal, { trustCaPems: config.trust.anchors })).signatures.map((s) => s.validationText)).toEqual(['Signature is Valid.']);
    expect(server.health.status).toBe('SERVING');

    // The call that started before the reload seals with the seal it started with.
    release();
    const output = path.join(dataDir, 'in-flight-disabled.pdf');
    fs.writeFileSync(output, await inFlight);
    expect((await pdfsig(output, { trustCaPems: config.trust.anchors })).signatures.map((s) => s.validationText)).toEqual(['Signature is Valid.']);
  }, 120_000);

  it('saving it enabled again: the seal seals', async () => {
    const result = await saveAndWait(original);
    expect(result.changed).toContain('org');
    expect((await listSeals(client)).seals.find((s) => s.id === 'org')!.disabled).toBe(false);
    const output = path.join(dataDir, 'enabled-again.pdf');
    fs.writeFileSync(output, await sealOnce('org'));
    expect((await pdfsig(output, { trustCaPems: config.trust.anchors })).signatures.map((s) => s.validationText)).toEqual(['Signature is Valid.']);
  }, 120_000);

  it('a configuration with a bad `disabled` value is refused at reload; every seal stays as it was', async () => {
    const before = logs.length;
    fs.writeFileSync(config.configPath, original.replace(/(  - id: org\n)/, '$1    disabled: sometimes\n'));
    const deadline = Date.now() + 20_000;
    while (!logs.slice(before).some((l) => l.msg.startsWith('seals not reloaded'))) {
      if (Date.now() > deadline) throw new Error('no refusal logged within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(JSON.stringify(logs.slice(before))).toContain('disabled');
    expect((await listSeals(client)).seals.find((s) => s.id === 'org')!.disabled).toBe(false);
    fs.writeFileSync(config.configPath, original);
  }, 60_000);
});
