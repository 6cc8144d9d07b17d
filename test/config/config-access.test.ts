/** The configuration keys of issue 6: tls (and SEALD_TLS_*), policy (inline, a file, SEALD_POLICY) and audit. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-config-access-test-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const BASE = `
pkcs11:
  module: /usr/lib/softhsm/libsofthsm2.so
  tokens: [{ label: seald-demo, pin: { file: token.pin } }]
seals:
  - { id: org, kind: organization, name: Acme, key: org, certificates: org.pem, image: org.png, size_mm: 42 }
`;

function load(extra: string, env: NodeJS.ProcessEnv = {}) {
  const file = path.join(dir, 'seald.yaml');
  fs.writeFileSync(file, BASE + extra);
  return loadConfig({ flags: { config: file }, env, cwd: '/cwd' });
}

describe('tls, policy and audit settings', () => {
  it('defaults: plaintext, built-in policy, audit under the data directory', async () => {
    const config = await load('data_dir: data\n');
    expect(config.tls).toBeUndefined();
    expect(config.policy).toBeUndefined();
    expect(config.audit).toEqual({ dir: path.join(dir, 'data', 'audit'), maxFileBytes: 64 * 1024 * 1024 });
  });

  it('reads tls, an inline policy and audit from the file, paths relative to it', async () => {
    const config = await load(`
tls: { cert: tls/server.pem, key: tls/server.key, client_ca: tls/clients.pem }
policy:
  principals: []
audit: { dir: /var/log/seald, max_file_bytes: 16MiB }
`);
    expect(config.tls).toEqual({ cert: path.join(dir, 'tls/server.pem'), key: path.join(dir, 'tls/server.key'), clientCa: path.join(dir, 'tls/clients.pem') });
    expect(config.policy).toEqual({ file: path.join(dir, 'seald.yaml'), section: true });
    expect(config.audit).toEqual({ dir: '/var/log/seald', maxFileBytes: 16 * 1024 * 1024 });
  });

  it('takes a policy file, and SEALD_TLS_*, SEALD_POLICY and SEALD_AUDIT_DIR over the file', async () => {
    expect((await load('policy: policy.yaml\n')).policy).toEqual({ file: path.join(dir, 'policy.yaml'), section: false });
    const config = await load('policy: policy.yaml\n', {
      SEALD_TLS_CERT: 's.pem',
      SEALD_TLS_KEY: 's.key',
      SEALD_TLS_CLIENT_CA: 'ca.pem',
      SEALD_POLICY: 'p.yaml',
      SEALD_AUDIT_DIR: 'audit',
    });
    expect(config.tls).toEqual({ cert: '/cwd/s.pem', key: '/cwd/s.key', clientCa: '/cwd/ca.pem' });
    expect(config.policy).toEqual({ file: '/cwd/p.yaml', section: false });
    expect(config.audit.dir).toBe('/cwd/audit');
  });

  it('refuses half a TLS configuration and names what is missing', async () => {
    await expect(load('tls: { cert: s.pem }\n')).rejects.toThrow('tls: mutual TLS needs cert, key and client_ca: tls.key, tls.client_ca missing');
    await expect(load('tls: { cert: s.pem, key: k, ca: x }\n')).rejects.toThrow('tls.ca: unknown setting');
    await expect(load('policy: 12\n')).rejects.toThrow('policy: expected a policy mapping or the path of a policy file');
  });
});
