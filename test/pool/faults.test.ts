/**
 * Faults injected into the real SoftHSM module (test/pool/fault-injector.ts) under a continuous load of concurrent
 * signs on a replica set: two tokens holding the same RSA key. For each fault: every request either returns a
 * signature that verifies with the certificate's key or fails with a clear status; the pool recovers; the replica
 * takes the load; no session is closed, no token logged out or module finalised under a running sign; and the pool
 * holds exactly the sessions it says it holds.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevCa, issueEndEntityCertificate } from '../../src/crypto/dev-ca.ts';
import type { Signer } from '../../src/crypto/signer.ts';
import { SealdError } from '../../src/errors.ts';
import { moduleLeases } from '../../src/pool/module-registry.ts';
import { TokenPool } from '../../src/pool/pool.ts';
import { FaultInjector, type FaultRule } from './fault-injector.ts';
import { openPkcs11Path, PKCS11_PATHS, type Pkcs11Path } from './pkcs11-paths.ts';
import { capturedLogger, createSoftHsm, type SoftHsm } from './softhsm.ts';

const PIN = 'replica-PIN-9';
const WORKERS = 8;
/** What a failed request may say: the token is unusable, or the caller's deadline passed. Never INTERNAL. */
const CLEAR_FAILURES = new Set(['TOKEN_DOWN', 'TOKEN_QUARANTINED', 'DEADLINE_EXCEEDED', 'SIGN_FAILED']);

interface LoadResult {
  ok: number;
  failed: Map<string, number>;
  unclear: unknown[];
  badSignatures: number;
}

describe.each(PKCS11_PATHS)('token faults under load on a replica set (real SoftHSM through %s, injected faults)', (pathName) => {
  let hsm: SoftHsm;
  let p11: Pkcs11Path;
  let injector: FaultInjector;
  let pool: TokenPool;
  let signer: Signer;
  let publicKey: KeyObject;
  const slots: Record<'a' | 'b', Buffer> = { a: Buffer.alloc(0), b: Buffer.alloc(0) };
  const log = capturedLogger();

  beforeAll(async () => {
    hsm = await createSoftHsm();
    await hsm.initToken('rep-a', PIN);
    await hsm.initToken('rep-b', PIN);
    // One key, generated once, imported on both tokens: a replica set.
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await hsm.importKey('rep-a', PIN, 'shared', pem);
    await hsm.importKey('rep-b', PIN, 'shared', pem);
    publicKey = pair.publicKey;
    const spki = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }));
    const ca = await createDevCa();
    const certificate = await issueEndEntityCertificate({
      ca,
      subjectPublicKeyInfo: spki,
      subject: { commonName: 'replica test' },
      validity: { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) },
    });
    p11 = await openPkcs11Path(pathName, hsm);
    injector = FaultInjector.install(p11.module, p11.env);
    pool = await TokenPool.open(
      {
        module: p11.module,
        env: p11.env,
        tokens: [
          { label: 'rep-a', pin: { value: PIN }, sessions: 2 },
          { label: 'rep-b', pin: { value: PIN }, sessions: 2 },
        ],
        health: { keepAliveSeconds: 0.05, retryMinSeconds: 0.05, retryMaxSeconds: 0.2 },
      },
      log.logger,
    );
    signer = pool.signer('shared', [certificate, ca.certificate]);
    const lease = pool as unknown as { leases: { module: { getSlots(b: boolean): { length: number; items(i: number): { handle: Buffer; getToken(): { label: string } } } } }[] };
    const list = lease.leases[0]!.module.getSlots(true);
    for (let i = 0; i < list.length; i++) {
      const label = list.items(i).getToken().label;
      if (label === 'rep-a') slots.a = list.items(i).handle;
      if (label === 'rep-b') slots.b = list.items(i).handle;
    }
  });

  afterAll(async () => {
    await pool?.close();
    expect(injector.openSessions).toBe(0);
    expect(injector.violations).toEqual([]);
    injector?.uninstall();
    expect(moduleLeases(p11.module)).toBe(0);
    await p11?.close();
    if (hsm) await rm(hsm.dir, { recursive: true, force: true });
  });

  /** WORKERS concurrent signers, each signing again as soon as its last sign settles, until `stop` resolves. */
  async function underLoad(during: () => Promise<void>, deadlineMs?: number): Promise<LoadResult> {
    const result: LoadResult = { ok: 0, failed: new Map(), unclear: [], badSignatures: 0 };
    let running = true;
    const workers = Array.from({ length: WORKERS }, async () => {
      while (running) {
        const data = randomBytes(64);
        const digest = createHash('sha256').update(data).digest();
        try {
          const signature = await signer.signDigest(digest, deadlineMs === undefined ? undefined : AbortSignal.timeout(deadlineMs));
          if (verify('sha256', data, publicKey, signature)) result.ok++;
          else result.badSignatures++;
        } catch (error) {
          if (error instanceof SealdError && CLEAR_FAILURES.has(error.code)) {
            result.failed.set(error.code, (result.failed.get(error.code) ?? 0) + 1);
          } else result.unclear.push(error);
        }
      }
    });
    try {
      await during();
    } finally {
      running = false;
      await Promise.all(workers);
    }
    return result;
  }

  function counter(slot: Buffer): FaultRule {
    return injector.add({ call: 'C_Sign', slot });
  }

  function token(label: string) {
    return pool.status().tokens.find((t) => t.label === label)!;
  }

  async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    while (!condition()) {
      if (Date.now() - start > timeoutMs) throw new Error(`not in time: ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  function expectClean(result: LoadResult): void {
    expect(result.unclear).toEqual([]);
    expect(result.badSignatures).toBe(0);
    expect(result.ok).toBeGreaterThan(0);
  }

  function expectSessionsAccounted(): void {
    const held = pool.status().tokens.reduce((sum, t) => sum + t.sessions, 0);
    expect(injector.openSessions).toBe(held);
  }

  it('warms up both replicas with their bounded sessions', () => {
    expect(token('rep-a')).toMatchObject({ state: 'ready', sessions: 2, keys: ['shared'] });
    expect(token('rep-b')).toMatchObject({ state: 'ready', sessions: 2, keys: ['shared'] });
    expect(injector.openSessions).toBe(4);
  });

  for (const ckr of ['CKR_DEVICE_ERROR', 'CKR_DEVICE_REMOVED'] as const) {
    it(`${ckr} on one token: it goes down, the replica takes every sign, then it is probed back`, async () => {
      const onB = counter(slots.b);
      const recoveriesBefore = token('rep-a').recoveries;
      let duringOutage = 0;
      const result = await underLoad(async () => {
        await new Promise((r) => setTimeout(r, 100));
        // The device fails: signs fail, and while it is out, it cannot even open a session.
        const sign = injector.add({ call: 'C_Sign', slot: slots.a, ckr });
        const open = injector.add({ call: 'C_OpenSession', slot: slots.a, ckr: 'CKR_TOKEN_NOT_PRESENT' });
        await waitFor(() => token('rep-a').state === 'down', 'rep-a down');
        const before = onB.fired;
        const onABefore = sign.fired;
        await new Promise((r) => setTimeout(r, 300));
        duringOutage = onB.fired - before;
        // While down, no sign reaches it: the replica takes them all.
        expect(sign.fired).toBe(onABefore);
        expect(token('rep-a').state).toBe('down');
        expect(token('rep-a').reason).toMatch(/CKR_TOKEN_NOT_PRESENT|CKR_DEVICE/);
        // The device comes back: the back-off probe finds it, logs in again and takes signs.
        injector.remove(sign);
        injector.remove(open);
        await waitFor(() => token('rep-a').state === 'ready', 'rep-a recovered');
        const onA = counter(slots.a);
        await waitFor(() => onA.fired > 10, 'rep-a signing again');
        injector.remove(onA);
      });
      injector.remove(onB);
      expectClean(result);
      // Failover: a sign that hit the fault was retried on the replica; nobody saw the fault.
      expect(result.failed).toEqual(new Map());
      expect(duringOutage).toBeGreaterThan(0);
      expect(token('rep-a').recoveries).toBe(recoveriesBefore + 1);
      expect(token('rep-a').faults.device).toBeGreaterThan(0);
      expectSessionsAccounted();
    });
  }

  it('CKR_TOKEN_NOT_PRESENT at sign time: same as a removed device', async () => {
    const result = await underLoad(async () => {
      const fault = injector.add({ call: 'C_SignInit', slot: slots.b, ckr: 'CKR_TOKEN_NOT_PRESENT', times: 1 });
      await waitFor(() => fault.fired === 1, 'fault fired');
      await waitFor(() => token('rep-b').state === 'ready' && token('rep-b').recoveries > 0, 'rep-b back');
    });
    expectClean(result);
    expect(result.failed).toEqual(new Map());
    expectSessionsAccounted();
  });

  it('CKR_SESSION_HANDLE_INVALID: the session is reopened and the sign retried, the token stays ready', async () => {
    const before = token('rep-a').faults.session + token('rep-b').faults.session;
    const result = await underLoad(async () => {
      // One at a time: a sign is retried once on a new session, so a second fault on the same sign would be final.
      for (let i = 0; i < 6; i++) {
        const fault = injector.add({ call: 'C_Sign', ckr: 'CKR_SESSION_HANDLE_INVALID', times: 1 });
        await waitFor(() => fault.fired === 1, 'fault fired');
        injector.remove(fault);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    expectClean(result);
    expect(result.failed).toEqual(new Map());
    expect(token('rep-a').faults.session + token('rep-b').faults.session).toBe(before + 6);
    expect([token('rep-a').state, token('rep-b').state]).toEqual(['ready', 'ready']);
    expectSessionsAccounted();
  });

  it('CKR_USER_NOT_LOGGED_IN: one re-login per fault, then the sign succeeds', async () => {
    const loginsBefore = injector.count('C_Login');
    const result = await underLoad(async () => {
      for (let i = 0; i < 3; i++) {
        const fault = injector.add({ call: 'C_SignInit', slot: slots.a, ckr: 'CKR_USER_NOT_LOGGED_IN', times: 1 });
        await waitFor(() => fault.fired === 1, 'fault fired');
        injector.remove(fault);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    expectClean(result);
    expect(result.failed).toEqual(new Map());
    expect(injector.count('C_Login') - loginsBefore).toBe(3);
    expect(token('rep-a').state).toBe('ready');
  });

  it('a sign slower than its deadline: DEADLINE_EXCEEDED at once, the session stays out of use until C_Sign returns', async () => {
    const slow = injector.add({ call: 'C_Sign', slot: slots.a, delayMs: 1500, times: 1 });
    const data = randomBytes(32);
    const started = Date.now();
    // With no load both replicas are idle and the first (rep-a) is chosen.
    const error = await signer.signDigest(createHash('sha256').update(data).digest(), AbortSignal.timeout(200)).catch((e: unknown) => e);
    expect(slow.fired).toBe(1);
    expect(error).toMatchObject({ category: 'deadline', code: 'DEADLINE_EXCEEDED' });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(token('rep-a').busy).toBe(1);
    // The others keep working meanwhile: a load with generous deadlines succeeds.
    const result = await underLoad(() => new Promise((r) => setTimeout(r, 200)), 5_000);
    expectClean(result);
    await waitFor(() => token('rep-a').busy === 0, 'slow sign returned');
    expect(token('rep-a').state).toBe('ready');
  });

  it('keep-alive finds a lost session and a lost login before any request does', async () => {
    const sessionFaults = token('rep-b').faults.session;
    const lost = injector.add({ call: 'C_GetSessionInfo', slot: slots.b, ckr: 'CKR_SESSION_HANDLE_INVALID', times: 1 });
    await waitFor(() => token('rep-b').faults.session === sessionFaults + 1, 'keep-alive reopened the session');
    injector.remove(lost);
    expectSessionsAccounted();
    // A real logout of the whole token, behind the pool's back (another application on the same login).
    const loginsBefore = injector.count('C_Login');
    const lease = pool as unknown as { leases: { lib: { C_OpenSession(s: Buffer, f: number): Buffer; C_Logout(h: Buffer): void; C_CloseSession(h: Buffer): void } }[] };
    const lib = lease.leases[0]!.lib;
    const session = lib.C_OpenSession(slots.b, 4);
    lib.C_Logout(session);
    lib.C_CloseSession(session);
    await waitFor(() => injector.count('C_Login') === loginsBefore + 1, 'keep-alive logged in again');
    const data = randomBytes(32);
    const result = await underLoad(() => new Promise((r) => setTimeout(r, 100)));
    expectClean(result);
    expect(verify('sha256', data, publicKey, await signer.signDigest(createHash('sha256').update(data).digest()))).toBe(true);
    expect(injector.count('C_Login')).toBe(loginsBefore + 1);
  });

  it('a PIN refused on re-login quarantines the token, one C_Login, never retried; the replica carries on', async () => {
    const loginsBefore = injector.count('C_Login');
    const refuse = injector.add({ call: 'C_Login', slot: slots.a, ckr: 'CKR_PIN_INCORRECT' });
    const result = await underLoad(async () => {
      const fault = injector.add({ call: 'C_SignInit', slot: slots.a, ckr: 'CKR_USER_NOT_LOGGED_IN', times: 1 });
      await waitFor(() => fault.fired === 1, 'fault fired');
      await waitFor(() => token('rep-a').state === 'quarantined', 'rep-a quarantined');
      await new Promise((r) => setTimeout(r, 400));
    });
    injector.remove(refuse);
    expectClean(result);
    expect(result.failed).toEqual(new Map());
    expect(injector.count('C_Login') - loginsBefore).toBe(1);
    expect(refuse.fired).toBe(1);
    expect(token('rep-a').reason).toContain('CKR_PIN_INCORRECT');
    const lines = log.lines.map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.some((l) => l.level === 50 && /quarantined/.test(l.msg))).toBe(true);
    expect(log.lines.join('')).not.toContain(PIN);
  });

});
