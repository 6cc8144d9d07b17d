/** The `tsa` configuration section and SEALD_TSA_* variables: endpoints, credentials from files or env, refusals. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { SealdError } from '../../src/errors.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-tsa-config-'));
  fs.writeFileSync(path.join(dir, 'softhsm2.conf'), '');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const BASE = `
pkcs11:
  module: /usr/lib/softhsm/libsofthsm2.so
  tokens: [{ label: t, pin: { file: token.pin } }]
seals:
  - { id: org, kind: organization, name: org, key: org, certificates: org.pem, image: org.png, size_mm: 42 }
`;

function load(tsa: string, env: NodeJS.ProcessEnv = {}) {
  const file = path.join(dir, 'seald.yaml');
  fs.writeFileSync(file, BASE + tsa);
  return loadConfig({ flags: { config: file }, env, cwd: dir });
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SealdError);
  expect((error as SealdError).code).toBe('CONFIG_INVALID');
  return (error as SealdError).message;
}

describe('tsa configuration', () => {
  it('is absent unless configured', async () => {
    expect((await load('')).tsa).toBeUndefined();
  });

  it('reads URLs and credentials from a file or the environment, never inline', async () => {
    fs.writeFileSync(path.join(dir, 'tsa2.secret'), 'from-file\n');
    const config = await load(
      `tsa:
  urls:
    - http://tsa1.example/tsr
    - { url: "https://tsa2.example/", username: seald, password_file: tsa2.secret }
    - { url: "https://tsa3.example/", username: other, password_env: TSA3_PASSWORD }
  timeout_ms: 2500
  policy: 1.2.3.4.5
  seal_timestamp: true
  seal_timestamp_mode: best-effort
`,
      { TSA3_PASSWORD: 'from-env' },
    );
    expect(config.tsa).toEqual({
      endpoints: [
        { url: 'http://tsa1.example/tsr' },
        { url: 'https://tsa2.example/', username: 'seald', password: 'from-file' },
        { url: 'https://tsa3.example/', username: 'other', password: 'from-env' },
      ],
      timeoutMs: 2500,
      policy: '1.2.3.4.5',
      sealTimestamp: true,
      sealTimestampMode: 'best-effort',
    });
  });

  it('makes strict the default time-stamp mode and refuses a mode it does not know', async () => {
    expect((await load('tsa: { urls: [http://tsa.example/] }\n'))?.tsa?.sealTimestampMode).toBe('strict');
    await expect(load('tsa: { urls: [http://tsa.example/], seal_timestamp_mode: lenient }\n')).rejects.toThrow(
      /tsa\.seal_timestamp_mode.*expected strict or best-effort/,
    );
  });

  it('takes SEALD_TSA_URLS and SEALD_TSA_TIMEOUT_MS over the file', async () => {
    const config = await load('tsa: { urls: [http://file.example/] }\n', {
      SEALD_TSA_URLS: 'http://a.example/tsr, http://b.example/tsr',
      SEALD_TSA_TIMEOUT_MS: '700',
    });
    expect(config.tsa?.endpoints).toEqual([{ url: 'http://a.example/tsr' }, { url: 'http://b.example/tsr' }]);
    expect(config.tsa?.timeoutMs).toBe(700);
  });

  it('refuses secrets in the file or URL, unknown settings, bad policies and seal_timestamp without a TSA', async () => {
    expect(await refusal(load('tsa: { urls: [{ url: "http://x.example/", username: u, password: p }] }\n'))).toMatch(/password_file or password_env/);
    expect(await refusal(load('tsa: { urls: ["http://u:p@x.example/"] }\n'))).toMatch(/not in the URL/);
    expect(await refusal(load('tsa: { urls: ["ftp://x.example/"] }\n'))).toMatch(/http or https/);
    expect(await refusal(load('tsa: { urls: ["http://x.example/"], policy: banana }\n'))).toMatch(/OID/);
    expect(await refusal(load('tsa: { seal_timestamp: true }\n'))).toMatch(/needs at least one TSA/);
    expect(await refusal(load('tsa: { urlz: [] }\n'))).toMatch(/urlz/);
    const missingEnv = await refusal(load('tsa: { urls: [{ url: "http://x.example/", username: u, password_env: NOPE }] }\n'));
    expect(missingEnv).toMatch(/NOPE is not set/);
  });

  it('reads ltv.ocsp_url, and SEALD_LTV_OCSP_URL over it', async () => {
    expect((await load('')).ltv).toEqual({});
    expect((await load('ltv: { ocsp_url: "http://ocsp.example/" }\n')).ltv).toEqual({ ocspUrl: 'http://ocsp.example/' });
    expect((await load('ltv: { ocsp_url: "http://ocsp.example/" }\n', { SEALD_LTV_OCSP_URL: 'http://env.example/' })).ltv).toEqual({ ocspUrl: 'http://env.example/' });
    expect(await refusal(load('ltv: { ocsp_url: "ldap://x/" }\n'))).toMatch(/http or https/);
  });
});

