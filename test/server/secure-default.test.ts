/**
 * Secure by default (issue 22): `seald serve` on a non-loopback address without TLS refuses to start unless
 * plaintext is allowed explicitly, and then the built-in policy lets the (anonymous) callers verify and list only.
 * Loopback keeps working as before: the same configuration on 127.0.0.1 seals. Real processes, real SoftHSM token.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, listSeals, sealdErrorCode, sealRemote, type SealClient } from '../../src/cli/client.ts';
import { loadConfig } from '../../src/config/config.ts';
import { SealHeaderSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { ensureEmbeddedDefaults } from '../../src/provision/embedded.ts';
import { fixture } from '../fixtures/index.ts';
import { run } from '../support/run.ts';
import { pdfsig } from '../support/tools.ts';
import { BIN, startServe, type ServeProcess } from '../deploy/serve-process.ts';

let root: string;
let dataDir: string;
/** The embedded demo's configuration without its development-only PIN setting (refused off loopback anyway). */
let netConfig: string;
let anchors: string[];
const servers: ServeProcess[] = [];
const clients: SealClient[] = [];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-secure-default-'));
  dataDir = path.join(root, 'data');
  const { configPath } = await ensureEmbeddedDefaults(dataDir, pino({ level: 'silent' }));
  const text = fs.readFileSync(configPath, 'utf8').replace(/^activation:\n(?:[ #].*\n)*/m, '');
  expect(text).not.toContain('insecure_accept_pins');
  netConfig = path.join(dataDir, 'net.yaml');
  fs.writeFileSync(netConfig, text);
  anchors = (await loadConfig({ flags: { config: netConfig }, env: {} })).trust.anchors;
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(servers.map((s) => s.stop()));
  fs.rmSync(root, { recursive: true, force: true });
});

function clientOf(server: ServeProcess): SealClient {
  const port = server.address.split(':').pop()!;
  const client = connect(`127.0.0.1:${port}`);
  clients.push(client);
  return client;
}

async function sealTo(client: SealClient, input: string, output: string): Promise<void> {
  const chunks: Uint8Array[] = [];
  const bytes = fs.readFileSync(input);
  await sealRemote(
    client,
    create(SealHeaderSchema, { sealId: 'org', documentSize: BigInt(bytes.byteLength), placement: { kind: { case: 'position', value: { page: 1, x: 200, y: 200 } } } }),
    (async function* () { yield bytes; })(),
    async (chunk) => void chunks.push(chunk),
  );
  fs.writeFileSync(output, Buffer.concat(chunks));
}

describe('seald serve without TLS', () => {
  it('on loopback: starts and seals as before (the built-in policy lets the local caller do everything)', async () => {
    const server = await startServe(['--config', netConfig, '--data-dir', dataDir]);
    servers.push(server);
    const client = clientOf(server);
    expect((await listSeals(client)).seals.map((s) => s.id)).toContain('org');
    const output = path.join(root, 'loopback-sealed.pdf');
    await sealTo(client, await fixture('simple'), output);
    const report = await pdfsig(output, { trustCaPems: anchors });
    expect(report.signatures.map((s) => s.validationText)).toEqual(['Signature is Valid.']);
    expect(server.logs.some((l) => /plaintext gRPC on a non-loopback/.test(l.msg))).toBe(false);
    await server.stop();
  }, 120_000);

  it('on 0.0.0.0: refuses to start, naming the way out', async () => {
    const started = startServe(['--config', netConfig, '--data-dir', dataDir, '--listen', '0.0.0.0:0']);
    await expect(started).rejects.toThrow(/exited early \(1\)/);
    const message = await started.catch((error: Error) => error.message);
    expect(message).toMatch(/0\.0\.0\.0:0 is not a loopback address and no tls is configured/);
    expect(message).toMatch(/insecure_plaintext_on_network: true \(--insecure-plaintext-on-network\)/);
  }, 60_000);

  it('on 0.0.0.0 with --insecure-plaintext-on-network: starts, warns, anonymous callers verify and list only', async () => {
    const server = await startServe(['--config', netConfig, '--data-dir', dataDir, '--listen', '0.0.0.0:0', '--insecure-plaintext-on-network']);
    servers.push(server);
    expect(server.address).toMatch(/^0\.0\.0\.0:\d+$/);
    const warning = server.logs.find((l) => /plaintext gRPC on a non-loopback address/.test(l.msg));
    expect(warning?.level).toBe(40);
    expect(server.logs.find((l) => l.msg === 'policy loaded')?.policy).toMatch(/verify and list only/);
    const client = clientOf(server);

    // list: allowed, and names no seal (anonymous may use none)
    expect((await listSeals(client)).seals).toEqual([]);
    // seal: refused before any upload, naming the missing permission
    const refused = await sealTo(client, await fixture('simple'), path.join(root, 'never.pdf')).catch((e: grpc.ServiceError) => e);
    expect((refused as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
    expect(sealdErrorCode(refused)).toBe('PERMISSION_MISSING');
    expect((refused as grpc.ServiceError).details).toMatch(/anonymous lacks the permission "seal on seal \\"org\\""|seal on seal "org"/);
    expect(fs.existsSync(path.join(root, 'never.pdf'))).toBe(false);
    // verify: allowed (the loopback test's output, through the CLI)
    const port = server.address.split(':').pop()!;
    const verified = await run(process.execPath, [BIN, 'verify', '--server', `127.0.0.1:${port}`, '--json', path.join(root, 'loopback-sealed.pdf')], {
      env: { ...process.env, SEALD_SERVER: '', SEALD_TLS_CA: '' },
    });
    expect(verified.stderr).toBe('');
    expect(JSON.parse(verified.stdout.toString()).verdict).toBe('VALID');
    expect(verified.code).toBe(0);
  }, 120_000);

  it('the config key allows it as the flag does; a wrong type is refused', async () => {
    const allowed = path.join(dataDir, 'net-allowed.yaml');
    fs.writeFileSync(allowed, `insecure_plaintext_on_network: true\nlisten: 0.0.0.0:50051\n${fs.readFileSync(netConfig, 'utf8')}`);
    const config = await loadConfig({ flags: { config: allowed }, env: {} });
    expect(config.plaintextOnNetwork).toBe(true);
    // The same file on loopback, or with the TLS material named: not plaintext on the network.
    expect((await loadConfig({ flags: { config: allowed, listen: '127.0.0.1:0' }, env: {} })).plaintextOnNetwork).toBe(false);
    expect((await loadConfig({ flags: { config: netConfig, listen: '[::1]:0' }, env: {} })).plaintextOnNetwork).toBe(false);
    const tls = { SEALD_TLS_CERT: 'c.pem', SEALD_TLS_KEY: 'k.pem', SEALD_TLS_CLIENT_CA: 'ca.pem' };
    expect((await loadConfig({ flags: { config: netConfig, listen: '0.0.0.0:0' }, env: tls })).plaintextOnNetwork).toBe(false);
    await expect(loadConfig({ flags: { config: netConfig, listen: '10.1.2.3:50051' }, env: {} })).rejects.toThrow(/not a loopback address/);
    const wrong = path.join(dataDir, 'net-wrong.yaml');
    fs.writeFileSync(wrong, `insecure_plaintext_on_network: yes please\n${fs.readFileSync(netConfig, 'utf8')}`);
    await expect(loadConfig({ flags: { config: wrong }, env: {} })).rejects.toThrow(/insecure_plaintext_on_network: expected true or false/);
  });
});
