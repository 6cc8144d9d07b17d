/**
 * A real seald server (bootstrap: config → token pool → seals → gRPC, with the output check) over a replica set of
 * two SoftHSM tokens holding the same RSA key, with the fault injector around the real module, for the service
 * tests of the pool under load and faults; on SoftHSM directly or behind p11-kit (pkcs11-paths.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { PDFDocument } from 'pdf-lib';
import { connect, type SealClient } from '../../src/cli/client.ts';
import { derToPem } from '../../src/crypto/certificate.ts';
import { createDevCa, issueEndEntityCertificate } from '../../src/crypto/dev-ca.ts';
import { loadConfig } from '../../src/config/config.ts';
import { drawOrganizationSeal } from '../../src/provision/seal-image.ts';
import { startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { FaultInjector } from './fault-injector.ts';
import type { P11KitServer } from './p11-kit-remote.ts';
import { openPkcs11Path, type Pkcs11PathName } from './pkcs11-paths.ts';
import { createSoftHsm, type SoftHsm } from './softhsm.ts';

const PIN = 'service-PIN-5';

export interface ServiceSetup {
  hsm: SoftHsm;
  injector: FaultInjector;
  server: SealdServer;
  client: SealClient;
  caPem: string;
  spoolDir: string;
  logs: string[];
  /** Slot ids of the two tokens, for targeted faults. */
  slots: { a: Buffer; b: Buffer };
  /** The remote side on the p11-kit path (kill and restart it to take the "HSM" away), else undefined. */
  remote: P11KitServer | undefined;
  close(): Promise<void>;
}

export async function startService(limits: Record<string, string | number> = {}, pathName: Pkcs11PathName = 'direct'): Promise<ServiceSetup> {
  const hsm = await createSoftHsm();
  await hsm.initToken('svc-a', PIN);
  await hsm.initToken('svc-b', PIN);
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  await hsm.importKey('svc-a', PIN, 'shared', pem);
  await hsm.importKey('svc-b', PIN, 'shared', pem);
  const ca = await createDevCa();
  const certificate = await issueEndEntityCertificate({
    ca,
    subjectPublicKeyInfo: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })),
    subject: { organization: 'Load Test Ltd', commonName: 'Load Test Ltd seal' },
    validity: { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) },
  });
  const p11 = await openPkcs11Path(pathName, hsm);
  const dir = join(hsm.dir, 'server');
  await mkdir(dir);
  const caPem = join(dir, 'ca.pem');
  await writeFile(caPem, derToPem(ca.certificate));
  await writeFile(join(dir, 'chain.pem'), derToPem(certificate) + derToPem(ca.certificate));
  await writeFile(join(dir, 'seal.png'), drawOrganizationSeal({ sizePx: 200, name: 'Load Test Ltd' }));
  await writeFile(join(dir, 'pin'), `${PIN}\n`, { mode: 0o600 });
  const limitLines = Object.entries({ tmp_dir: join(dir, 'spool'), drain_seconds: 10, ...limits }).map(([k, v]) => `  ${k}: ${v}`);
  await writeFile(
    join(dir, 'seald.yaml'),
    [
      'listen: 127.0.0.1:0',
      'metrics: 127.0.0.1:0',
      'limits:',
      ...limitLines,
      'pkcs11:',
      `  module: ${p11.module}`,
      `  env: ${JSON.stringify(p11.env)}`,
      '  health: { keep_alive_seconds: 2, retry_min_seconds: 0.05, retry_max_seconds: 0.5, call_timeout_seconds: 5 }',
      '  tokens:',
      '    - { label: svc-a, pin: { file: pin } }',
      '    - { label: svc-b, pin: { file: pin } }',
      'seals:',
      '  - { id: org, kind: organization, name: Load Test Ltd, key: shared, certificates: chain.pem, image: seal.png, size_mm: 40 }',
      '',
    ].join('\n'),
  );
  const injector = FaultInjector.install(p11.module, p11.env);
  const logs: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(chunk.toString('utf8'));
        callback();
      },
    }),
  );
  const config = await loadConfig({ flags: { config: join(dir, 'seald.yaml') }, env: {} });
  const server = await startSealdServer(config, logger, { healthIntervalMs: 50 });
  const client = connect(server.address);
  const slots = { a: Buffer.alloc(0), b: Buffer.alloc(0) };
  const list = injector.module.getSlots(true);
  for (let i = 0; i < list.length; i++) {
    const label = list.items(i).getToken().label;
    if (label === 'svc-a') slots.a = Buffer.from(list.items(i).handle);
    if (label === 'svc-b') slots.b = Buffer.from(list.items(i).handle);
  }
  return {
    hsm,
    injector,
    server,
    client,
    caPem,
    spoolDir: config.limits.tmpDir,
    logs,
    slots,
    remote: p11.remote,
    async close() {
      client.close();
      await server.shutdown('test over');
      injector.uninstall();
      await p11.close();
      await rm(hsm.dir, { recursive: true, force: true });
    },
  };
}

/** A valid PDF of about `bytes` bytes: one page and an unreferenced stream of random-looking bytes. */
export async function paddedPdf(bytes: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.addPage([595, 842]);
  const filler = new Uint8Array(bytes);
  for (let i = 0; i < filler.length; i++) filler[i] = (i * 2654435761) >>> 24;
  doc.context.register(doc.context.stream(filler));
  return doc.save({ useObjectStreams: false });
}
