import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import graphene from 'graphene-pk11';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPadesCms } from '../../src/crypto/cms.ts';
import { derToPem } from '../../src/crypto/certificate.ts';
import { createDevCa, issueEndEntityCertificate, type DevCa } from '../../src/crypto/dev-ca.ts';
import { SealdError } from '../../src/errors.ts';
import { findKeyPublicInfo, generateKeyPair } from '../../src/pool/admin.ts';
import { acquireModule, moduleLeases } from '../../src/pool/module-registry.ts';
import { TokenPool } from '../../src/pool/pool.ts';
import { openssl } from '../crypto/openssl.ts';
import { capturedLogger, createSoftHsm, SOFTHSM_MODULE, type SoftHsm } from './softhsm.ts';

const PIN = '246810';

function verifies(spki: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return verify('sha256', message, createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }), signature);
}

function message(i: number): { data: Buffer; digest: Buffer } {
  const data = Buffer.from(`document ${i} ${randomBytes(8).toString('hex')}`);
  return { data, digest: createHash('sha256').update(data).digest() };
}

describe('TokenPool on a real SoftHSM token', () => {
  let hsm: SoftHsm;
  let pool: TokenPool;
  let rsaSpki: Uint8Array;
  let ecSpki: Uint8Array;
  let ca: DevCa;
  let rsaCert: Uint8Array;
  let ecCert: Uint8Array;
  const log = capturedLogger();

  beforeAll(async () => {
    hsm = await createSoftHsm();
    await hsm.initToken('pool-a', PIN);
    await hsm.initToken('pool-down', PIN);
    // Provisioning with the admin helper (sync key generation), before and alongside pools in this process.
    rsaSpki = generateKeyPair(SOFTHSM_MODULE, 'pool-a', PIN, { label: 'rsa', type: 'RSA-2048', env: hsm.env });
    ecSpki = generateKeyPair(SOFTHSM_MODULE, 'pool-a', PIN, { label: 'ec', type: 'EC-P256', env: hsm.env });
    generateKeyPair(SOFTHSM_MODULE, 'pool-down', PIN, { label: 'rsa', type: 'RSA-2048', env: hsm.env });
    ca = await createDevCa();
    const validity = { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) };
    rsaCert = await issueEndEntityCertificate({ ca, subjectPublicKeyInfo: rsaSpki, subject: { country: 'CN', organization: '示例商贸有限公司', commonName: '示例商贸有限公司 电子印章' }, validity });
    ecCert = await issueEndEntityCertificate({ ca, subjectPublicKeyInfo: ecSpki, subject: { country: 'CN', organization: '示例商贸有限公司', commonName: '张三' }, validity });
    pool = await TokenPool.open(
      { module: SOFTHSM_MODULE, env: hsm.env, tokens: [{ label: 'pool-a', pin: { file: await pinFile(hsm, PIN) }, sessions: 4 }] },
      log.logger,
    );
  });

  afterAll(async () => {
    await pool?.close();
    expect(moduleLeases(SOFTHSM_MODULE)).toBe(0);
    if (hsm) await rm(hsm.dir, { recursive: true, force: true });
  });

  it('warms up: token ready, 4 sessions, both keys found, public keys as generated', () => {
    expect(pool.status().tokens).toEqual([
      {
        label: 'pool-a',
        serial: expect.any(String),
        module: expect.stringContaining('libsofthsm2.so'),
        state: 'ready',
        sessions: 4,
        busy: 0,
        keys: ['ec', 'rsa'].sort(),
        faults: { session: 0, login: 0, device: 0, pin: 0, other: 0 },
        recoveries: 0,
      },
    ]);
    expect(pool.hasKey('rsa')).toBe(true);
    expect(pool.hasKey('ec')).toBe(true);
    expect(pool.hasKey('nope')).toBe(false);
    expect(Buffer.from(pool.publicKeyInfo('rsa')).equals(Buffer.from(rsaSpki))).toBe(true);
    expect(Buffer.from(pool.publicKeyInfo('ec')).equals(Buffer.from(ecSpki))).toBe(true);
    // The admin lookup agrees while the pool is open (same module lease registry, login already held).
    expect(Buffer.from(findKeyPublicInfo(SOFTHSM_MODULE, 'pool-a', PIN, 'ec', { env: hsm.env })!).equals(Buffer.from(ecSpki))).toBe(true);
    expect(findKeyPublicInfo(SOFTHSM_MODULE, 'pool-a', PIN, 'missing', { env: hsm.env })).toBeUndefined();
  });

  it('admin-generated keys: private CKA_SIGN, CKA_SENSITIVE, not extractable, on the token, CKA_ID shared', () => {
    const lease = acquireModule(SOFTHSM_MODULE, { env: hsm.env });
    try {
      const slots = lease.module.getSlots(true);
      let slot: graphene.Slot | undefined;
      for (let i = 0; i < slots.length; i++) if (slots.items(i).getToken().label === 'pool-a') slot = slots.items(i);
      const session = slot!.open(graphene.SessionFlag.SERIAL_SESSION);
      try {
        for (const label of ['rsa', 'ec']) {
          const privateKey = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, label }).items(0);
          const publicKey = session.find({ class: graphene.ObjectClass.PUBLIC_KEY, label }).items(0);
          const attrs = privateKey.getAttribute({ sign: null, sensitive: null, extractable: null, token: null, private: null, id: null });
          expect(attrs).toMatchObject({ sign: true, sensitive: true, extractable: false, token: true, private: true });
          expect((attrs.id as Buffer).length).toBeGreaterThan(0);
          expect((publicKey.getAttribute('id') as Buffer).equals(attrs.id as Buffer)).toBe(true);
        }
      } finally {
        session.close();
      }
    } finally {
      lease.release();
    }
    expect(() => generateKeyPair(SOFTHSM_MODULE, 'pool-a', PIN, { label: 'rsa', type: 'RSA-2048', env: hsm.env })).toThrow(
      expect.objectContaining({ code: 'KEY_EXISTS' }),
    );
  });

  it('signs with RSA (PKCS#1 v1.5 over DigestInfo) and ECDSA (DER), verified by node crypto', async () => {
    const rsa = pool.signer('rsa', [rsaCert, ca.certificate]);
    const ec = pool.signer('ec', [ecCert, ca.certificate]);
    expect(rsa.algorithm).toBe('RSASSA-PKCS1-v1_5');
    expect(ec.algorithm).toBe('ECDSA');
    const m = message(0);
    const rsaSig = await rsa.signDigest(m.digest);
    expect(rsaSig.length).toBe(256);
    expect(verifies(rsaSpki, m.data, rsaSig)).toBe(true);
    const ecSig = await ec.signDigest(m.digest);
    expect(ecSig[0]).toBe(0x30);
    expect(verifies(ecSpki, m.data, ecSig)).toBe(true);
  });

  it('64 concurrent signs over 4 sessions all verify, never more than 4 busy', async () => {
    const rsa = pool.signer('rsa', [rsaCert]);
    const ec = pool.signer('ec', [ecCert]);
    let maxBusy = 0;
    const sampler = setInterval(() => {
      maxBusy = Math.max(maxBusy, pool.status().tokens[0]!.busy);
    }, 1);
    const jobs = Array.from({ length: 64 }, (_, i) => {
      const m = message(i);
      const useRsa = i % 2 === 0;
      return (useRsa ? rsa : ec).signDigest(m.digest).then((sig) => verifies(useRsa ? rsaSpki : ecSpki, m.data, sig));
    });
    const results = await Promise.all(jobs);
    clearInterval(sampler);
    expect(results.every(Boolean)).toBe(true);
    expect(maxBusy).toBeLessThanOrEqual(4);
    expect(pool.status().tokens[0]!.busy).toBe(0);
  });

  it('builds a PAdES CMS with the pool signer that openssl verifies', async () => {
    for (const [label, cert] of [
      ['rsa', rsaCert],
      ['ec', ecCert],
    ] as const) {
      const data = randomBytes(5000);
      const cms = await createPadesCms({ signer: pool.signer(label, [cert, ca.certificate]), documentDigest: createHash('sha256').update(data).digest() });
      await writeFile(join(hsm.dir, `${label}.bin`), data);
      await writeFile(join(hsm.dir, `${label}.p7s`), cms);
      await writeFile(join(hsm.dir, 'ca.pem'), derToPem(ca.certificate));
      const result = await openssl([
        'cms', '-verify', '-binary', '-inform', 'DER', '-in', join(hsm.dir, `${label}.p7s`), '-content', join(hsm.dir, `${label}.bin`),
        '-CAfile', join(hsm.dir, 'ca.pem'), '-purpose', 'any', '-out', '/dev/null',
      ]);
      expect(result.stderr).toContain('Verification successful');
    }
  });

  it('unknown key label → KEY_NOT_FOUND', () => {
    expect(() => pool.signer('no-such-key', [])).toThrow(expect.objectContaining({ category: 'not-found', code: 'KEY_NOT_FOUND' }));
    expect(() => pool.publicKeyInfo('no-such-key')).toThrow(expect.objectContaining({ code: 'KEY_NOT_FOUND' }));
  });

  it('a certificate for another key → KEY_CERTIFICATE_MISMATCH', () => {
    expect(() => pool.signer('rsa', [ecCert])).toThrow(expect.objectContaining({ code: 'KEY_CERTIFICATE_MISMATCH' }));
  });

  it('abort rejects the caller at once; the session comes back only when C_Sign completes', async () => {
    const rsa = pool.signer('rsa', [rsaCert]);
    const controller = new AbortController();
    const lease = acquireModule(SOFTHSM_MODULE, { env: hsm.env });
    const realSign = lease.lib.C_Sign;
    // Abort right after the real C_Sign has been queued on the libuv thread pool.
    lease.lib.C_Sign = function (this: unknown, ...args: unknown[]) {
      const result = (realSign as (...a: unknown[]) => unknown).apply(this, args);
      controller.abort();
      return result;
    } as typeof realSign;
    let error: unknown;
    try {
      error = await rsa.signDigest(message(1).digest, controller.signal).catch((e: unknown) => e);
    } finally {
      lease.lib.C_Sign = realSign;
      lease.release();
    }
    expect(error).toBeInstanceOf(SealdError);
    expect((error as SealdError).category).toBe('cancelled');
    // The sign was already on the thread pool: its session is still busy right after the rejection.
    expect(pool.status().tokens[0]!.busy).toBe(1);
    await waitFor(() => pool.status().tokens[0]!.busy === 0);
    const m = message(2);
    expect(verifies(rsaSpki, m.data, await rsa.signDigest(m.digest))).toBe(true);
  });

  it('an abort while queued removes the request from the queue', async () => {
    const rsa = pool.signer('rsa', [rsaCert]);
    const running = Array.from({ length: 4 }, (_, i) => rsa.signDigest(message(10 + i).digest));
    const controller = new AbortController();
    const queued = rsa.signDigest(message(20).digest, controller.signal);
    controller.abort();
    await expect(queued).rejects.toMatchObject({ category: 'cancelled' });
    await Promise.all(running);
    expect(pool.status().tokens[0]!.busy).toBe(0);
  });

  it('a timeout signal rejects with a deadline error', async () => {
    const rsa = pool.signer('rsa', [rsaCert]);
    const busy = Array.from({ length: 8 }, (_, i) => rsa.signDigest(message(30 + i).digest));
    await expect(rsa.signDigest(message(40).digest, AbortSignal.timeout(0))).rejects.toMatchObject({ category: 'deadline' });
    await Promise.all(busy);
  });

  it('a lost session is reopened and the sign retried once (real CKR_SESSION_HANDLE_INVALID)', async () => {
    const lease = acquireModule(SOFTHSM_MODULE, { env: hsm.env });
    const lib = lease.lib;
    const realSign = lib.C_Sign;
    let injected = 0;
    // Fault injection around the real call: close the session for real, then let the real C_Sign fail on it.
    lib.C_Sign = function (this: typeof lib, ...args: Parameters<typeof realSign>) {
      if (injected === 0) {
        injected++;
        lib.C_CloseSession(args[0]);
      }
      return (realSign as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof realSign;
    try {
      const m = message(3);
      const sig = await pool.signer('rsa', [rsaCert]).signDigest(m.digest);
      expect(injected).toBe(1);
      expect(verifies(rsaSpki, m.data, sig)).toBe(true);
      expect(pool.status().tokens[0]).toMatchObject({ state: 'ready', sessions: 4, busy: 0 });
      expect(log.lines.join('')).toContain('CKR_SESSION_HANDLE_INVALID');
    } finally {
      lib.C_Sign = realSign;
      lease.release();
    }
  });

  it('a token logout is healed by one re-login (real C_Logout, key handles found again)', async () => {
    const lease = acquireModule(SOFTHSM_MODULE, { env: hsm.env });
    const lib = lease.lib;
    const realLogin = lib.C_Login;
    let logins = 0;
    lib.C_Login = function (this: typeof lib, ...args: Parameters<typeof realLogin>) {
      logins++;
      return (realLogin as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof realLogin;
    try {
      // A logout on any session logs the whole token out (PKCS#11 v2.40 §5.6): do it on a session of our own.
      const slot = lease.module.getSlots(true);
      let session: Buffer | undefined;
      for (let i = 0; i < slot.length; i++) {
        if (slot.items(i).getToken().label === 'pool-a') session = lib.C_OpenSession(slot.items(i).handle, 4);
      }
      lib.C_Logout(session!);
      lib.C_CloseSession(session!);
      const m = message(4);
      const sig = await pool.signer('ec', [ecCert]).signDigest(m.digest);
      expect(verifies(ecSpki, m.data, sig)).toBe(true);
      expect(logins).toBe(1);
      const again = message(5);
      expect(verifies(rsaSpki, again.data, await pool.signer('rsa', [rsaCert]).signDigest(again.digest))).toBe(true);
      expect(logins).toBe(1);
    } finally {
      lib.C_Login = realLogin;
      lease.release();
    }
  });

  it('close() waits for in-flight signs; a second pool on the same token shares the login', async () => {
    const second = await TokenPool.open(
      { module: SOFTHSM_MODULE, env: hsm.env, tokens: [{ label: 'pool-a', pin: { value: PIN }, sessions: 2 }] },
      capturedLogger().logger,
    );
    const events: string[] = [];
    const signs = Array.from({ length: 12 }, (_, i) => {
      const m = message(100 + i);
      return second
        .signer('rsa', [rsaCert])
        .signDigest(m.digest)
        .then((sig) => {
          events.push('sign');
          return verifies(rsaSpki, m.data, sig);
        });
    });
    const early = second.signer('rsa', [rsaCert]);
    const closing = second.close().then(() => events.push('closed'));
    // After close(): new signs are refused, new signers too; the 12 already accepted run to completion.
    await expect(early.signDigest(message(0).digest)).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    expect(() => second.signer('rsa', [rsaCert])).toThrow(expect.objectContaining({ code: 'POOL_CLOSED' }));
    expect((await Promise.all(signs)).every(Boolean)).toBe(true);
    await closing;
    expect(events.filter((e) => e === 'sign')).toHaveLength(12);
    expect(events.at(-1)).toBe('closed');
    expect(second.status().tokens[0]!.sessions).toBe(0);
    // The first pool is still logged in and working (no C_Logout, its own sessions keep the login).
    const m = message(200);
    expect(verifies(rsaSpki, m.data, await pool.signer('rsa', [rsaCert]).signDigest(m.digest))).toBe(true);
  });

  it('a device fault marks the token down: TOKEN_DOWN now and for later signs', async () => {
    const downPool = await TokenPool.open(
      { module: SOFTHSM_MODULE, env: hsm.env, tokens: [{ label: 'pool-down', pin: { value: PIN }, sessions: 2 }] },
      capturedLogger().logger,
    );
    const lease = acquireModule(SOFTHSM_MODULE, { env: hsm.env });
    const lib = lease.lib;
    const realSign = lib.C_Sign;
    // Wraps the real C_Sign (it runs and completes on the token); the answer is replaced by a device error.
    lib.C_Sign = function (this: typeof lib, ...args: unknown[]) {
      const callback = args[3] as (error: Error | null, data: Buffer | null) => void;
      return (realSign as (...a: unknown[]) => unknown).apply(this, [
        ...args.slice(0, 3),
        () => callback(new Error('CKR_DEVICE_REMOVED'), null),
      ]);
    } as typeof realSign;
    try {
      const signer = downPool.signer('rsa', []);
      await expect(signer.signDigest(message(6).digest)).rejects.toMatchObject({ category: 'unavailable', code: 'TOKEN_DOWN' });
      expect(downPool.status().tokens[0]).toMatchObject({ state: 'down', reason: expect.stringContaining('CKR_DEVICE_REMOVED') });
      expect(downPool.hasKey('rsa')).toBe(false);
      await expect(signer.signDigest(message(7).digest)).rejects.toMatchObject({ code: 'TOKEN_DOWN' });
    } finally {
      lib.C_Sign = realSign;
      lease.release();
      await downPool.close();
    }
  });

  it('several module entries in one pool; a same-label key with another public key is not a replica', async () => {
    // Two entries of the same library (one C_Initialize, reference counted): pool-a and pool-down hold different
    // keys labelled "rsa"; the certificate picks pool-a's.
    const both = await TokenPool.open(
      [
        { module: SOFTHSM_MODULE, env: hsm.env, tokens: [{ label: 'pool-a', pin: { value: PIN }, sessions: 1 }] },
        { module: SOFTHSM_MODULE, env: hsm.env, tokens: [{ label: 'pool-down', pin: { value: PIN }, sessions: 1 }] },
      ],
      capturedLogger().logger,
    );
    try {
      expect(both.status().tokens.map((t) => [t.label, t.state])).toEqual([
        ['pool-a', 'ready'],
        ['pool-down', 'ready'],
      ]);
      const signer = both.signer('rsa', [rsaCert]);
      for (let i = 0; i < 6; i++) {
        const m = message(300 + i);
        expect(verifies(rsaSpki, m.data, await signer.signDigest(m.digest))).toBe(true);
      }
    } finally {
      await both.close();
    }
  });

  it('never logs a PIN', () => {
    expect(log.lines.length).toBeGreaterThan(0);
    expect(log.lines.join('')).not.toContain(PIN);
  });
});

async function pinFile(hsm: SoftHsm, pin: string): Promise<string> {
  const path = join(hsm.dir, 'user.pin');
  await writeFile(path, `${pin}\n`, { mode: 0o600 });
  return path;
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
