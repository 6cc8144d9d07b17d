/**
 * The standard grpc.health.v1.Health service (https://github.com/grpc/grpc/blob/master/doc/health-checking.md).
 * SERVING means: the token pool is open and every configured seal's key is on a ready token. The check re-runs on an
 * interval, so Watch subscribers (load balancers, Kubernetes gRPC probes) see a token going away and coming back.
 * Both the overall status ("") and seald.v1.SealService's are reported.
 */
import type * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { SealService } from '../gen/seald/v1/seald_pb.ts';
import type { Logger } from './logger.ts';

export const HEALTH_SERVICES = ['', SealService.typeName] as const;

export class HealthMonitor {
  private readonly implementation = new HealthImplementation(
    Object.fromEntries(HEALTH_SERVICES.map((name) => [name, 'NOT_SERVING' as ServingStatus])),
  );
  private timer: NodeJS.Timeout | undefined;
  private current: ServingStatus = 'NOT_SERVING';
  private stopped = false;

  constructor(
    private readonly isReady: () => boolean,
    private readonly logger: Logger,
    private readonly intervalMs = 5_000,
  ) {}

  addToServer(server: grpc.Server): void {
    this.implementation.addToServer(server);
  }

  get status(): ServingStatus {
    return this.current;
  }

  /** Check now, then every interval until stop(). */
  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  /** NOT_SERVING from now on (shutdown: load balancers drain us before we stop accepting). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.set('NOT_SERVING', 'info');
  }

  check(): ServingStatus {
    if (this.stopped) return this.current;
    let ready = false;
    try {
      ready = this.isReady();
    } catch (error) {
      this.logger.warn({ err: error }, 'health check failed');
    }
    this.set(ready ? 'SERVING' : 'NOT_SERVING');
    return this.current;
  }

  private set(status: ServingStatus, level: 'info' | 'warn' = status === 'SERVING' ? 'info' : 'warn'): void {
    if (status !== this.current) this.logger[level]({ status }, 'health status changed');
    this.current = status;
    for (const name of HEALTH_SERVICES) this.implementation.setStatus(name, status);
  }
}
