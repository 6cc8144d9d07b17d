import { rm } from 'node:fs/promises';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireModule, CKF_OS_LOCKING_OK, moduleLeases } from '../../src/pool/module-registry.ts';
import { capturedLogger, createSoftHsm, SOFTHSM_MODULE, type SoftHsm } from './softhsm.ts';

type NativeMethods = Record<string, (...args: unknown[]) => unknown>;

describe('module registry', () => {
  let hsm: SoftHsm;
  const calls: { initialize: unknown[]; finalize: number } = { initialize: [], finalize: 0 };
  // The native binding's own prototype: pkcs11js wraps these per instance at construction, so a spy installed here
  // (before the registry loads the module) sees exactly what reaches the C++ C_Initialize.
  const native = Object.getPrototypeOf(pkcs11js.PKCS11.prototype) as NativeMethods;
  const realInitialize = native.C_Initialize!;
  const realFinalize = native.C_Finalize!;

  beforeAll(async () => {
    hsm = await createSoftHsm();
    await hsm.initToken('r', '1234');
    native.C_Initialize = function (this: unknown, ...args: unknown[]) {
      calls.initialize.push(structuredClone(args[0]));
      return realInitialize.apply(this, args);
    };
    native.C_Finalize = function (this: unknown, ...args: unknown[]) {
      calls.finalize++;
      return realFinalize.apply(this, args);
    };
  });

  afterAll(async () => {
    native.C_Initialize = realInitialize;
    native.C_Finalize = realFinalize;
    if (hsm) await rm(hsm.dir, { recursive: true, force: true });
  });

  it('initialises once with CK_C_INITIALIZE_ARGS.flags = CKF_OS_LOCKING_OK, finalises with the last lease', () => {
    const { logger, lines } = capturedLogger();
    const a = acquireModule(SOFTHSM_MODULE, { env: hsm.env, logger });
    const b = acquireModule(SOFTHSM_MODULE, { env: hsm.env, logger });
    expect(a.lib).toBe(b.lib);
    expect(calls.initialize).toEqual([{ flags: CKF_OS_LOCKING_OK }]);
    expect(CKF_OS_LOCKING_OK).toBe(2);
    expect(moduleLeases(SOFTHSM_MODULE)).toBe(2);
    expect(a.module.getSlots(true).length).toBeGreaterThan(0);
    a.release();
    a.release(); // idempotent
    expect(calls.finalize).toBe(0);
    expect(moduleLeases(SOFTHSM_MODULE)).toBe(1);
    b.release();
    expect(calls.finalize).toBe(1);
    expect(moduleLeases(SOFTHSM_MODULE)).toBe(0);
    expect(lines.join('')).toContain('CKF_OS_LOCKING_OK');
    // A later lease initialises it again (same loaded library, new C_Initialize).
    const c = acquireModule(SOFTHSM_MODULE, { env: hsm.env });
    expect(calls.initialize).toHaveLength(2);
    c.release();
  });

  it('refuses a different environment while the module is initialised', () => {
    const a = acquireModule(SOFTHSM_MODULE, { env: hsm.env });
    try {
      expect(() => acquireModule(SOFTHSM_MODULE, { env: { SOFTHSM2_CONF: '/elsewhere.conf' } })).toThrow(
        expect.objectContaining({ code: 'PKCS11_ENV_CONFLICT' }),
      );
      // No env, or the same env, is fine.
      acquireModule(SOFTHSM_MODULE).release();
    } finally {
      a.release();
    }
  });

  it('reports a missing module clearly', () => {
    expect(() => acquireModule('/nonexistent/libpkcs11.so')).toThrow(expect.objectContaining({ code: 'PKCS11_MODULE_NOT_FOUND' }));
  });

  it('treats CKR_CRYPTOKI_ALREADY_INITIALIZED (initialised by other code) as fine, with a warning', () => {
    const other = new pkcs11js.PKCS11();
    other.load(SOFTHSM_MODULE);
    other.C_Initialize({ flags: CKF_OS_LOCKING_OK });
    const { logger, lines } = capturedLogger();
    const lease = acquireModule(SOFTHSM_MODULE, { env: hsm.env, logger });
    expect(lease.module.getSlots(true).length).toBeGreaterThan(0);
    expect(lines.join('')).toContain('already initialised outside seald');
    lease.release();
  });
});
