/** The configuration keys of the pool under load and faults: admission limits, pool health timers, more modules. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-config-pool-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function config(extraLimits: string, extraPkcs11: string): string {
  const file = path.join(dir, 'seald.yaml');
  fs.writeFileSync(
    file,
    `limits:
${extraLimits}
pkcs11:
  module: /usr/lib/softhsm/libsofthsm2.so
${extraPkcs11}
  tokens:
    - { label: a, pin: { file: a.pin } }
seals:
  - { id: org, kind: organization, name: Org, key: org, certificates: org.pem, image: org.png, size_mm: 40 }
`,
  );
  return file;
}

describe('pool configuration', () => {
  it('reads admission limits, health timers and further modules (paths next to the file)', async () => {
    const file = config(
      '  max_concurrent_documents: 8\n  max_queued_documents: 100\n  max_spooled_bytes: 512MiB',
      '  health: { keep_alive_seconds: 10, retry_min_seconds: 0.5, retry_max_seconds: 30, call_timeout_seconds: 3 }\n' +
        '  more_modules:\n    - { module: lib/other.so, tokens: [ { serial: "4711", pin: { env: OTHER_PIN }, sessions: 2 } ] }',
    );
    const loaded = await loadConfig({ flags: { config: file }, env: {} });
    expect(loaded.limits).toMatchObject({ maxConcurrentDocuments: 8, maxQueuedDocuments: 100, maxSpooledBytes: 512 * 1024 * 1024 });
    expect(loaded.pkcs11.health).toEqual({ keepAliveSeconds: 10, retryMinSeconds: 0.5, retryMaxSeconds: 30, callTimeoutSeconds: 3 });
    expect(loaded.pkcs11.moreModules).toEqual([
      { module: path.join(dir, 'lib/other.so'), env: {}, tokens: [{ serial: '4711', pin: { env: 'OTHER_PIN' }, sessions: 2 }] },
    ]);
  });

  it('leaves them unset by default', async () => {
    const loaded = await loadConfig({ flags: { config: config('  drain_seconds: 5', '') }, env: {} });
    expect(loaded.limits.maxConcurrentDocuments).toBeUndefined();
    expect(loaded.pkcs11.health).toBeUndefined();
    expect(loaded.pkcs11.moreModules).toBeUndefined();
  });

  it('names the key that is wrong', async () => {
    await expect(loadConfig({ flags: { config: config('  max_concurrent_documents: lots', '') }, env: {} })).rejects.toThrow(
      /limits\.max_concurrent_documents: expected a positive integer/,
    );
    await expect(loadConfig({ flags: { config: config('  drain_seconds: 5', '  health: { keepalive: 3 }') }, env: {} })).rejects.toThrow(
      /pkcs11\.health\.keepalive: unknown setting/,
    );
    await expect(loadConfig({ flags: { config: config('  drain_seconds: 5', '  more_modules: [ { module: x.so, tokens: [] } ]') }, env: {} })).rejects.toThrow(
      /pkcs11\.more_modules\[0\]\.tokens: at least one token is required/,
    );
  });
});
