/**
 * The demo image for real: built from deploy/Dockerfile (target `demo`) with testcontainers, started, and used
 * through its published port: health SERVING (the image's own HEALTHCHECK is the wait strategy), a PDF sealed over
 * gRPC and verified by pdfsig against the dev CA the container provisioned, then a graceful stop.
 *
 * Needs a container engine (Docker or Podman). Where none answers — as on CI here — testcontainers says so within
 * milliseconds, and this file's tests are skipped with that reason; nothing else in the suite needs containers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { GenericContainer, getContainerRuntimeClient, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectServers, sealRemote, UPLOAD_CHUNK_BYTES, type SealClient } from '../../src/cli/client.ts';
import { SealHeaderSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { fixture } from '../fixtures/index.ts';
import { run } from '../support/run.ts';
import { pdfsig, qpdfCheck } from '../support/tools.ts';
import { BIN } from './serve-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const GRPC_PORT = 50051;
const METRICS_PORT = 9464;

/** Why the container tests cannot run here, or undefined when a container engine answers. */
const noRuntime = await getContainerRuntimeClient().then(
  () => undefined,
  (error: unknown) => (error as Error).message,
);
if (noRuntime !== undefined) {
  console.warn(`test/deploy/container.test.ts skipped: no container engine (testcontainers: ${noRuntime})`);
}

describe.skipIf(noRuntime !== undefined)(`the demo image${noRuntime === undefined ? '' : ` — skipped: no container engine (${noRuntime})`}`, () => {
  let container: StartedTestContainer;
  let address: string;
  let client: SealClient;
  let dir: string;
  let logs = '';
  let logsEnded: Promise<void>;
  let tlsArgs: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-container-'));
    const image = await GenericContainer.fromDockerfile(ROOT, 'deploy/Dockerfile')
      .withTarget('demo')
      .build('seald-demo-test', { deleteOnExit: true });
    container = await image
      .withExposedPorts(GRPC_PORT, METRICS_PORT)
      .withWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(240_000)
      .start();
    const stream = await container.logs();
    logsEnded = new Promise((resolve) => stream.on('end', () => resolve()).on('error', () => resolve()));
    stream.on('data', (line: Buffer | string) => (logs += line.toString()));
    address = `${container.getHost()}:${container.getMappedPort(GRPC_PORT)}`;
    // The demo listens on 0.0.0.0, so it serves mutual TLS from its dev CA (src/provision/demo-tls.ts): take the
    // client certificate it provisioned, as an operator would copy it out of the volume.
    for (const file of ['ca/dev-ca.pem', 'tls/client.pem', 'tls/client.key.pem']) {
      const copy = await container.exec(['cat', `/var/lib/seald/${file}`]);
      expect(copy.exitCode, file).toBe(0);
      fs.writeFileSync(path.join(dir, path.basename(file)), copy.output);
    }
    tlsArgs = ['--tls-ca', path.join(dir, 'dev-ca.pem'), '--tls-cert', path.join(dir, 'client.pem'), '--tls-key', path.join(dir, 'client.key.pem')];
    client = await connectServers([address], {}, {
      ca: fs.readFileSync(path.join(dir, 'dev-ca.pem')),
      cert: fs.readFileSync(path.join(dir, 'client.pem')),
      key: fs.readFileSync(path.join(dir, 'client.key.pem')),
    });
  }, 900_000);

  afterAll(async () => {
    client?.close();
    await container?.stop();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports SERVING through the published port', async () => {
    const result = await run(process.execPath, [BIN, 'health', '--server', address, ...tlsArgs]);
    expect(result.stdout.toString()).toBe('SERVING\n');
    expect(result.code).toBe(0);
    const metrics = await (await fetch(`http://${container.getHost()}:${container.getMappedPort(METRICS_PORT)}/metrics`)).text();
    expect(metrics).toContain('seald_inflight_documents');
  });

  it('seals a PDF that pdfsig verifies against the dev CA the container made', async () => {
    const input = await fixture('simple');
    const output = path.join(dir, 'sealed.pdf');
    const parts: Uint8Array[] = [];
    const summary = await sealRemote(
      client,
      create(SealHeaderSchema, {
        sealId: 'org',
        placement: { kind: { case: 'position', value: { page: 1, x: 200, y: 200 } } },
        options: { reason: 'container test' },
      }),
      fs.createReadStream(input, { highWaterMark: UPLOAD_CHUNK_BYTES }),
      (chunk) => void parts.push(chunk),
      { deadline: new Date(Date.now() + 60_000) },
    );
    fs.writeFileSync(output, Buffer.concat(parts));
    expect(BigInt(fs.statSync(output).size)).toBe(summary.documentSize);

    const ca = await container.exec(['cat', '/var/lib/seald/ca/dev-ca.pem']);
    expect(ca.exitCode).toBe(0);
    const anchor = path.join(dir, 'dev-ca.pem');
    fs.writeFileSync(anchor, ca.output);
    const report = await pdfsig(output, { trustCaPems: [anchor] });
    expect(report.signatures).toHaveLength(1);
    expect(report.signatures[0]!.validationText).toBe('Signature is Valid.');
    expect((await qpdfCheck(output)).status).not.toBe('errors');
  });

  it('runs as a non-root user and stops gracefully on SIGTERM', async () => {
    const id = await container.exec(['id', '-u']);
    expect(id.output.trim()).not.toBe('0');
    await container.stop({ timeout: 45_000 }); // SIGTERM, then SIGKILL after 45 s (the k8s grace period)
    await logsEnded;
    expect(logs).toContain('"msg":"shutting down"');
    expect(logs).toContain('"msg":"stopped"');
  }, 120_000);
});
