/** The `batch` section of the configuration: defaults, file values, environment overrides, refusals. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig } from '../../src/config/config.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-batch-config-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const BASE = `
pkcs11:
  module: /usr/lib/softhsm/libsofthsm2.so
  tokens:
    - label: seald-demo
      pin: { file: token.pin }
seals:
  - { id: org, kind: organization, name: Org, key: org, certificates: org.pem, image: org.png, size_mm: 42 }
`;

function load(extra: string, env: NodeJS.ProcessEnv = {}) {
  const file = path.join(dir, 'seald.yaml');
  fs.writeFileSync(file, `${BASE}${extra}`);
  return loadConfig({ flags: { config: file }, env, cwd: '/work' });
}

describe('batch settings', () => {
  it('defaults: 8 documents in flight, a 24 h window, 32 MiB in memory, records under the data dir', async () => {
    const config = await load('data_dir: data\n');
    expect(config.batch).toEqual({
      inflightDocuments: DEFAULTS.batchInflightDocuments,
      idempotencyWindowSeconds: 86_400,
      idempotencyMemoryBytes: 32 * 1024 * 1024,
      idempotencyDir: path.join(dir, 'data', 'idempotency'),
    });
  });

  it('reads the file, and the environment overrides it', async () => {
    const extra = `batch: { inflight_documents: 3, idempotency_window_seconds: 600, idempotency_memory_bytes: 4 MiB, idempotency_dir: records }\n`;
    const config = await load(extra);
    expect(config.batch).toEqual({
      inflightDocuments: 3,
      idempotencyWindowSeconds: 600,
      idempotencyMemoryBytes: 4 * 1024 * 1024,
      idempotencyDir: path.join(dir, 'records'),
    });
    const fromEnv = await load(extra, { SEALD_BATCH_INFLIGHT_DOCUMENTS: '16', SEALD_IDEMPOTENCY_WINDOW_SECONDS: '0' });
    expect([fromEnv.batch.inflightDocuments, fromEnv.batch.idempotencyWindowSeconds]).toEqual([16, 0]);
  });

  it('refuses bad values with the key named', async () => {
    await expect(load('batch: { inflight_documents: 0 }\n')).rejects.toThrow(/batch\.inflight_documents: expected a positive integer/);
    await expect(load('batch: { idempotency_window_seconds: -1 }\n')).rejects.toThrow(/batch\.idempotency_window_seconds/);
    await expect(load('batch: { window: 5 }\n')).rejects.toThrow(/batch\.window: unknown setting/);
  });
});
