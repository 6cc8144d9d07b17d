/**
 * A real gRPC server with mutual TLS (optional), a policy file watched for changes and an audit log on disk, for the
 * authentication, authorisation and audit tests. The engine is harness.ts's stand-in unless a test gives the real one.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pino } from 'pino';
import { AuditLog } from '../../src/audit/log.ts';
import { listAuditFiles } from '../../src/audit/files.ts';
import { PolicyStore } from '../../src/auth/policy-store.ts';
import { connect, type ClientTls, type SealClient } from '../../src/cli/client.ts';
import { connectRollback, type RollbackClient } from '../../src/cli/rollback-client.ts';
import type { sealDocument } from '../../src/engine/seal.ts';
import type { TlsConfig } from '../../src/config/config.ts';
import type { Logger } from '../../src/server/logger.ts';
import type { ConfiguredSeal } from '../../src/server/seals.ts';
import { startServer, type SealdServer } from '../../src/server/server.ts';
import { fakeSeal, fakeSealDocument } from './harness.ts';

export interface AccessHarness {
  server: SealdServer;
  root: string;
  policyFile: string | undefined;
  policy: PolicyStore;
  auditDir: string;
  logs: string[];
  client(tls?: ClientTls): SealClient;
  rollbackClient(tls?: ClientTls): RollbackClient;
  /** The audit records written so far (whole lines only). */
  records(): Record<string, unknown>[];
  /** Replace the policy file (as an editor does: write a temp file, rename it over) and wait for the reload. */
  writePolicy(yaml: string): Promise<void>;
  close(): Promise<void>;
}

export async function startAccessHarness(options: {
  tls?: TlsConfig;
  /** YAML of a policy file (top level `principals:`); none: the built-in default. */
  policy?: string;
  seals?: ConfiguredSeal[];
  sealDocument?: typeof sealDocument;
}): Promise<AccessHarness> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-access-test-'));
  const logs: string[] = [];
  const logger: Logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const policyFile = options.policy === undefined ? undefined : path.join(root, 'policy.yaml');
  if (policyFile !== undefined) fs.writeFileSync(policyFile, options.policy!);
  const policy = await PolicyStore.open(policyFile === undefined ? undefined : { file: policyFile, section: false }, logger);
  const auditDir = path.join(root, 'audit');
  const audit = await AuditLog.open({ dir: auditDir });
  const seals = options.seals ?? [fakeSeal('org'), fakeSeal('personal', 'personal')];
  const server = await startServer({
    listen: '127.0.0.1:0',
    metrics: undefined,
    limits: { maxDocumentBytes: 64 * 1024 * 1024, spoolMemoryBytes: 1024 * 1024, tmpDir: path.join(root, 'spool'), drainSeconds: 5 },
    logger,
    seals: new Map(seals.map((s) => [s.config.id, s])),
    isAvailable: () => true,
    sealDocument: options.sealDocument ?? fakeSealDocument(),
    healthIntervalMs: 1000,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    policy,
    audit: { append: (entry) => audit.append(entry) },
  });
  const clients: { close(): void }[] = [];
  return {
    server,
    root,
    policyFile,
    policy,
    auditDir,
    logs,
    client(tls) {
      const client = connect(`127.0.0.1:${server.port}`, {}, tls);
      clients.push(client);
      return client;
    },
    rollbackClient(tls) {
      const client = connectRollback(`127.0.0.1:${server.port}`, tls);
      clients.push(client);
      return client;
    },
    records() {
      return listAuditFiles(auditDir).flatMap((file) =>
        fs.readFileSync(file, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>),
      );
    },
    async writePolicy(yaml) {
      const generation = policy.generation;
      const temp = `${policyFile!}.tmp`;
      fs.writeFileSync(temp, yaml);
      fs.renameSync(temp, policyFile!);
      const deadline = Date.now() + 10_000;
      while (policy.generation === generation) {
        if (Date.now() > deadline) throw new Error('the policy was not reloaded within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      for (const client of clients) client.close();
      await server.shutdown('test over');
      policy.close();
      await audit.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
