import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireModule, CKF_OS_LOCKING_OK, moduleLeases } from '../../src/pool/module-registry.ts';
import { capturedLogger, createSoftHsm, SOFTHSM_MODULE, type SoftHsm } from './softhsm.ts';

const SPY_MODULE = '/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so';

describe('module registry', () => {
  let hsm: SoftHsm;
  let spyLog: string;

  beforeAll(async () => {
    hsm = await createSoftHsm();
    await hsm.initToken('r', '1234');
    spyLog = join(hsm.dir, 'spy.log');
  });

  afterAll(async () => {
    if (hsm) await rm(hsm.dir, { recursive: true, force: true });
  });

  it('initialises once with CK_C_INITIALIZE_ARGS.flags = CKF_OS_LOCKING_OK, finalises with the last lease', async () => {
    // The calls run on the module's own thread (module-thread.ts): OpenSC's pkcs11-spy, loaded in front of SoftHSM,
    // writes down what reaches the library, independently of seald.
    const env = { ...hsm.env, PKCS11SPY: SOFTHSM_MODULE, PKCS11SPY_OUTPUT: spyLog };
    const spied = async (call: string) => ((await readFile(spyLog, 'utf8')).match(new RegExp(`^\\d+: ${call}$`, 'gm')) ?? []).length;
    const { logger, lines } = capturedLogger();
    const a = acquireModule(SPY_MODULE, { env, logger });
    const b = acquireModule(SPY_MODULE, { env, logger });
    expect(a.lib).toBe(b.lib);
    expect(await spied('C_Initialize')).toBe(1);
    expect(await readFile(spyLog, 'utf8')).toMatch(/C_Initialize\n[^\n]*\n\[in\] pInitArgs = 0x[0-9a-f]+\n\s+flags: 2\n\s+CKF_OS_LOCKING_OK/);
    expect(CKF_OS_LOCKING_OK).toBe(2);
    expect(moduleLeases(SPY_MODULE)).toBe(2);
    expect(a.module.getSlots(true).length).toBeGreaterThan(0);
    a.release();
    a.release(); // idempotent
    expect(await spied('C_Finalize')).toBe(0);
    expect(moduleLeases(SPY_MODULE)).toBe(1);
    b.release();
    expect(await spied('C_Finalize')).toBe(1);
    expect(moduleLeases(SPY_MODULE)).toBe(0);
    expect(lines.join('')).toContain('CKF_OS_LOCKING_OK');
    // A later lease initialises it again (same loaded library, new C_Initialize).
    const c = acquireModule(SPY_MODULE, { env });
    expect(await spied('C_Initialize')).toBe(2);
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
