/**
 * The session leases of one token (src/pool/session-pool.ts) on real SoftHSM sessions: one sign per session (PKCS#11
 * v2.40 §5.2), a FIFO queue when all are busy, waiters that give up, and closing only once idle.
 */
import { rm } from 'node:fs/promises';
import graphene from 'graphene-pk11';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SealdError } from '../../src/errors.ts';
import { acquireModule, type ModuleLease } from '../../src/pool/module-registry.ts';
import { SessionPool, type PooledSession } from '../../src/pool/session-pool.ts';
import { listTokens } from '../../src/pool/slots.ts';
import { createSoftHsm, SOFTHSM_MODULE, type SoftHsm } from './softhsm.ts';

describe('SessionPool on SoftHSM sessions', () => {
  let hsm: SoftHsm;
  let lease: ModuleLease;
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    hsm = await createSoftHsm();
    await hsm.initToken('leases', '1234');
    lease = acquireModule(SOFTHSM_MODULE, { env: hsm.env });
  });

  afterAll(async () => {
    lease?.release();
    if (hsm) await rm(hsm.dir, { recursive: true, force: true });
  });

  function poolOf(count: number): SessionPool {
    const token = listTokens(lease.module).find((t) => t.label === 'leases')!;
    const pool = new SessionPool();
    for (let i = 0; i < count; i++) pool.add(token.slot.open(graphene.SessionFlag.SERIAL_SESSION));
    return pool;
  }

  const handleOf = (slot: PooledSession): string => slot.session.handle.toString('hex');

  it('leases each session to one sign, then queues the rest first come, first served', async () => {
    const pool = poolOf(2);
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(handleOf(a)).not.toBe(handleOf(b));
    expect(pool.busy).toBe(2);
    const order: string[] = [];
    const c = pool.acquire().then((slot) => (order.push('c'), slot));
    const d = pool.acquire().then((slot) => (order.push('d'), slot));
    expect(pool.waiting).toBe(2);
    expect(pool.pressure()).toBe(2); // (2 busy + 2 waiting) / 2 sessions
    pool.release(b, true);
    expect(handleOf(await c)).toBe(handleOf(b));
    pool.release(a, true);
    expect(handleOf(await d)).toBe(handleOf(a));
    expect(order).toEqual(['c', 'd']);
    pool.release(await c, true);
    pool.release(await d, true);
    expect([pool.busy, pool.waiting, pool.idle().length]).toEqual([0, 0, 2]);
    pool.closeAll(logger);
  });

  it('a waiter whose signal aborts leaves the queue with the abort reason; the session goes to the next one', async () => {
    const pool = poolOf(1);
    const held = await pool.acquire();
    const controller = new AbortController();
    const gaveUp = pool.acquire(controller.signal);
    const patient = pool.acquire();
    controller.abort(new SealdError('deadline', 'DEADLINE_EXCEEDED', 'too slow'));
    await expect(gaveUp).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(pool.waiting).toBe(1);
    pool.release(held, true);
    expect(handleOf(await patient)).toBe(handleOf(held));
    const cancelled = new AbortController();
    const plain = pool.acquire(cancelled.signal);
    cancelled.abort();
    await expect(plain).rejects.toMatchObject({ code: 'CANCELLED' });
    pool.release(held, true);
    pool.closeAll(logger);
  });

  it('a token that is not ready keeps released sessions and fails its waiters; close waits for the last sign', async () => {
    const pool = poolOf(1);
    const held = await pool.acquire();
    const waiter = pool.acquire();
    pool.release(held, false); // not handed on: the token went down
    expect([pool.busy, pool.waiting, pool.idle().length]).toEqual([0, 1, 1]);
    pool.failWaiters(new SealdError('unavailable', 'TOKEN_DOWN', 'down'));
    await expect(waiter).rejects.toMatchObject({ code: 'TOKEN_DOWN' });

    const again = await pool.acquire();
    let idle = false;
    const closing = pool.whenIdle().then(() => (idle = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);
    pool.release(again, true);
    await closing;
    expect(idle).toBe(true);
    const handle = again.session.handle;
    pool.closeAll(logger);
    expect(pool.size).toBe(0);
    expect(() => lease.lib.C_GetSessionInfo(handle)).toThrow(/CKR_SESSION_HANDLE_INVALID/);
  });
});
