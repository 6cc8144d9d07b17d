/**
 * The RFC 3161 client against OpenSSL's TSA (test/support/test-tsa.ts) over real HTTP: tokens checked by seald and
 * by `openssl ts -verify`, failover, credentials, and every way a TSA can answer wrongly.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsaClient, type TsaOutcome } from '../../src/crypto/tsa-client.ts';
import { checkTimestampToken } from '../../src/crypto/timestamp-token.ts';
import { SealdError } from '../../src/errors.ts';
import { createTestPki, type TestPki } from '../support/pki.ts';
import { run } from '../support/run.ts';
import { startTestTsa, type TestTsa } from '../support/test-tsa.ts';

let dir: string;
let pki: TestPki;
let primary: TestTsa;
let secondary: TestTsa;
let guarded: TestTsa;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'seald-tsa-'));
  pki = await createTestPki(join(dir, 'pki'), { caName: 'TSA test CA', signerName: 'unused' });
  const ca = { certPem: pki.caCertPem, keyPem: pki.caKeyPem };
  [primary, secondary, guarded] = await Promise.all([
    startTestTsa({ dir: join(dir, 'a'), ca, name: 'TSA A' }),
    startTestTsa({ dir: join(dir, 'b'), ca, name: 'TSA B' }),
    startTestTsa({ dir: join(dir, 'c'), ca, name: 'TSA C', basicAuth: { user: 'seald', password: 's3cret' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([primary?.close(), secondary?.close(), guarded?.close()]);
  await rm(dir, { recursive: true, force: true });
});

function imprint(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

async function failure(promise: Promise<unknown>): Promise<SealdError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SealdError);
  return error as SealdError;
}

describe('TsaClient', () => {
  it('gets a token that seald and openssl ts -verify both accept for the imprint', async () => {
    const client = new TsaClient({ endpoints: [{ url: primary.url }], timeoutMs: 5000 });
    const digest = imprint();
    const before = Date.now();
    const token = await client.timestamp(digest);
    expect(token.genTime.getTime()).toBeGreaterThanOrEqual(before - 2000);
    expect(token.genTime.getTime()).toBeLessThanOrEqual(Date.now() + 2000);
    expect(token.policy).toBe(primary.policy);
    expect(token.accuracyMs).toBe(1000);

    const tokenFile = join(dir, 'token.der');
    await writeFile(tokenFile, token.der);
    const verify = await run('openssl', [
      'ts', '-verify', '-digest', Buffer.from(digest).toString('hex'), '-token_in', '-in', tokenFile,
      '-CAfile', pki.caCertPem, '-untrusted', primary.certPem,
    ]); // prettier-ignore
    expect(verify.stdout.toString() + verify.stderr).toContain('Verification: OK');

    // The same token for another imprint is refused by seald's own check.
    const other = await failure(checkTimestampToken(token.der, imprint()));
    expect(other.code).toBe('TSA_WRONG_IMPRINT');
  });

  it('fails over to the next TSA when the first is down, and reports both to the observer', async () => {
    const down = await startTestTsa({ dir: join(dir, 'down'), ca: { certPem: pki.caCertPem, keyPem: pki.caKeyPem } });
    await down.close();
    const seen: [string, TsaOutcome][] = [];
    const client = new TsaClient({
      endpoints: [{ url: down.url }, { url: secondary.url }],
      timeoutMs: 5000,
      observer: (url, outcome) => seen.push([url, outcome]),
    });
    const before = secondary.requests;
    const token = await client.timestamp(imprint());
    expect(token.der.length).toBeGreaterThan(0);
    expect(secondary.requests).toBe(before + 1);
    expect(seen).toEqual([
      [down.url, 'error'],
      [secondary.url, 'ok'],
    ]);
    // The failed TSA now goes last: the next request goes straight to the healthy one.
    seen.length = 0;
    await client.timestamp(imprint());
    expect(seen).toEqual([[secondary.url, 'ok']]);
  });

  it('rejects a token for the wrong imprint, then uses the next TSA', async () => {
    primary.behaviour = { kind: 'wrong-imprint' };
    try {
      const alone = new TsaClient({ endpoints: [{ url: primary.url }], timeoutMs: 5000 });
      const error = await failure(alone.timestamp(imprint()));
      expect(error.category).toBe('unavailable');
      expect(error.code).toBe('TSA_UNAVAILABLE');
      expect(error.message).toMatch(/messageImprint differs/);

      const withBackup = new TsaClient({ endpoints: [{ url: primary.url }, { url: secondary.url }], timeoutMs: 5000 });
      const digest = imprint();
      const token = await withBackup.timestamp(digest);
      await expect(checkTimestampToken(token.der, digest)).resolves.toMatchObject({ policy: secondary.policy });
    } finally {
      primary.behaviour = { kind: 'ok' };
    }
  });

  it('gives DEADLINE_EXCEEDED when every TSA is slower than the timeout', async () => {
    primary.behaviour = { kind: 'slow', delayMs: 1500 };
    try {
      const client = new TsaClient({ endpoints: [{ url: primary.url }], timeoutMs: 300 });
      const started = Date.now();
      const error = await failure(client.timestamp(imprint()));
      expect(error.category).toBe('deadline');
      expect(error.code).toBe('TSA_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(1400);
    } finally {
      primary.behaviour = { kind: 'ok' };
    }
  });

  it('names garbage and refusals as such', async () => {
    const client = new TsaClient({ endpoints: [{ url: primary.url }], timeoutMs: 5000 });
    primary.behaviour = { kind: 'garbage' };
    try {
      const garbage = await failure(client.timestamp(imprint()));
      expect(garbage.code).toBe('TSA_UNAVAILABLE');
      expect(garbage.message).toMatch(/not a time-stamp response/);
      primary.behaviour = { kind: 'rejection' };
      const refused = await failure(client.timestamp(imprint()));
      expect(refused.message).toMatch(/refused the request \(rejection\)/);
    } finally {
      primary.behaviour = { kind: 'ok' };
    }
  });

  it('sends basic-auth credentials, and never shows them in errors', async () => {
    const good = new TsaClient({ endpoints: [{ url: guarded.url, username: 'seald', password: 's3cret' }], timeoutMs: 5000 });
    await good.timestamp(imprint());
    expect(guarded.authorizations.at(-1)).toBe('Basic ' + Buffer.from('seald:s3cret').toString('base64'));

    const wrong = new TsaClient({ endpoints: [{ url: guarded.url, username: 'seald', password: 'nope' }], timeoutMs: 5000 });
    const error = await failure(wrong.timestamp(imprint()));
    expect(error.message).toMatch(/refused our credentials \(HTTP 401\)/);
    expect(error.message).not.toContain('nope');
  });

  it('refuses a token under another policy than the required one', async () => {
    const client = new TsaClient({ endpoints: [{ url: primary.url }], timeoutMs: 5000, policy: '1.3.6.1.4.1.55555.1.2' });
    // OpenSSL honours a requested policy from its accepted list: the token carries it and passes.
    const token = await client.timestamp(imprint());
    expect(token.policy).toBe('1.3.6.1.4.1.55555.1.2');
    const unknown = new TsaClient({ endpoints: [{ url: primary.url }], timeoutMs: 5000, policy: '1.2.3.4' });
    const error = await failure(unknown.timestamp(imprint()));
    expect(error.code).toBe('TSA_UNAVAILABLE');
  });

  it('measures its TSAs token size instead of guessing', async () => {
    const client = new TsaClient({ endpoints: [{ url: secondary.url }], timeoutMs: 5000 });
    const bound = await client.tokenSizeBound();
    const token = await client.timestamp(imprint());
    expect(token.der.length).toBeLessThanOrEqual(bound);
    expect(bound - token.der.length).toBeLessThanOrEqual(64 + 8);
  });
});
