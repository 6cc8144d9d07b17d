import { createHash, createPublicKey, verify } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevCa, issueEndEntityCertificate } from '../../src/crypto/dev-ca.ts';
import { generateKeyPair } from '../../src/pool/admin.ts';
import { acquireModule, type ModuleLease } from '../../src/pool/module-registry.ts';
import { TokenPool } from '../../src/pool/pool.ts';
import { openPkcs11Path, PKCS11_PATHS, type Pkcs11Path } from './pkcs11-paths.ts';
import { capturedLogger, createSoftHsm, SOFTHSM_MODULE, type SoftHsm } from './softhsm.ts';

const RIGHT_PIN = 'right-PIN-42';
const WRONG_PIN = 'wrong-PIN-x7';

describe.each(PKCS11_PATHS)('wrong PIN → quarantine after exactly one C_Login (SoftHSM through %s)', (pathName) => {
  let hsm: SoftHsm;
  let p11: Pkcs11Path;
  let lease: ModuleLease;
  let logins = 0;
  let spki: Uint8Array;
  let certificate: Uint8Array;
  const log = capturedLogger();
  const pools: TokenPool[] = [];

  beforeAll(async () => {
    hsm = await createSoftHsm();
    await hsm.initToken('q', RIGHT_PIN);
    spki = generateKeyPair(SOFTHSM_MODULE, 'q', RIGHT_PIN, { label: 'rsa', type: 'RSA-2048', env: hsm.env });
    const ca = await createDevCa();
    certificate = await issueEndEntityCertificate({
      ca,
      subjectPublicKeyInfo: spki,
      subject: { commonName: 'quarantine test' },
      validity: { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) },
    });
    // Count real login attempts: wrap the module's own C_Login (graphene's Session.login calls it).
    p11 = await openPkcs11Path(pathName, hsm);
    lease = acquireModule(p11.module, { env: p11.env });
    const realLogin = lease.lib.C_Login;
    lease.lib.C_Login = function (this: unknown, ...args: unknown[]) {
      logins++;
      return (realLogin as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof realLogin;
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    lease?.release();
    await p11?.close();
    if (hsm) await rm(hsm.dir, { recursive: true, force: true });
  });

  async function open(pin: { value?: string; file?: string; env?: string }): Promise<TokenPool> {
    const pool = await TokenPool.open({ module: p11.module, env: p11.env, tokens: [{ label: 'q', pin }] }, log.logger);
    pools.push(pool);
    return pool;
  }

  it('quarantines the token after one refused login and rejects signs with TOKEN_QUARANTINED', async () => {
    const pool = await open({ value: WRONG_PIN });
    expect(logins).toBe(1);
    const [status] = pool.status().tokens;
    expect(status).toMatchObject({ label: 'q', state: 'quarantined', sessions: 0, busy: 0 });
    expect(status!.reason).toContain('CKR_PIN_INCORRECT');
    expect(pool.hasKey('rsa')).toBe(false);
    // The token never logged in, so its keys are unknown: the signer exists and says why it cannot sign.
    const signer = pool.signer('rsa', [certificate]);
    expect(signer.algorithm).toBe('RSASSA-PKCS1-v1_5');
    const error = await signer.signDigest(createHash('sha256').update('x').digest()).catch((e: unknown) => e);
    expect(error).toMatchObject({ category: 'unavailable', code: 'TOKEN_QUARANTINED' });
    expect((error as Error).message).toMatch(/Fix the PIN in the configuration and restart/);
    expect((error as Error).message).not.toContain(WRONG_PIN);
    expect(() => pool.signer('rsa', [])).toThrow(expect.objectContaining({ code: 'TOKEN_QUARANTINED' }));
    expect(logins).toBe(1);
  });

  it('never presents the refused PIN again in this process (new pool, admin helper)', async () => {
    const again = await open({ value: WRONG_PIN });
    expect(again.status().tokens[0]!.state).toBe('quarantined');
    expect(() => generateKeyPair(SOFTHSM_MODULE, 'q', WRONG_PIN, { label: 'x', type: 'EC-P256', env: hsm.env })).toThrow(
      expect.objectContaining({ code: 'PIN_REJECTED' }),
    );
    expect(logins).toBe(1);
  });

  it('an unreadable PIN file quarantines without any login attempt', async () => {
    const missing = join(hsm.dir, 'no-such.pin');
    const pool = await open({ file: missing });
    expect(pool.status().tokens[0]).toMatchObject({ state: 'quarantined', reason: expect.stringContaining(missing) });
    expect(logins).toBe(1);
  });

  it('the right PIN (from an environment variable) still works', async () => {
    process.env.SEALD_TEST_PIN = RIGHT_PIN;
    const pool = await open({ env: 'SEALD_TEST_PIN' });
    expect(pool.status().tokens[0]!.state).toBe('ready');
    expect(logins).toBe(2);
    const data = Buffer.from('fixed PIN');
    const signature = await pool.signer('rsa', [certificate]).signDigest(createHash('sha256').update(data).digest());
    expect(verify('sha256', data, createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }), signature)).toBe(true);
  });

  it('logs the quarantine at error level, and no PIN anywhere in logs or status', () => {
    const entries = log.lines.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(entries.some((e) => e.level === 50 && /quarantined/.test(e.msg))).toBe(true);
    const everything = log.lines.join('') + JSON.stringify(pools.map((p) => p.status()));
    expect(everything).not.toContain(WRONG_PIN);
    expect(everything).not.toContain(RIGHT_PIN);
  });
});
