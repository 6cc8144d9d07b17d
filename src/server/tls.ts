/**
 * Mutual TLS for the gRPC port. seald runs its own TLS listener (node:tls, TLS 1.2+, ALPN h2, client certificate
 * required and verified against the client CA bundle) and hands each verified connection to grpc-js through a
 * connection injector. Owning the listener is what lets seald log every refused handshake (unknown, expired or
 * foreign client certificate, no certificate) with its reason: grpc-js's own TLS server keeps those to its trace.
 * The caller's identity is read from the verified peer certificate of the call's connection.
 */
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { ANONYMOUS, principalFromCertificate, type Principal } from '../auth/principal.ts';
import { SealdError } from '../errors.ts';
import type { TlsConfig } from '../config/config.ts';
import type { Logger } from './logger.ts';
import { DEFAULT_HTTP2_WINDOWS, listenOn, tunedConnectionInjector, type Http2Windows } from './listener.ts';

export interface TlsListener {
  readonly port: number;
  /** Stop accepting connections (established ones are grpc-js's to drain). */
  close(): Promise<void>;
}

interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

export function loadTlsMaterial(config: TlsConfig): TlsMaterial {
  const read = (file: string, what: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (cause) {
      throw new SealdError('invalid-input', 'CONFIG_INVALID', `tls.${what}: cannot read ${file}`, { cause });
    }
  };
  const material = { cert: read(config.cert, 'cert'), key: read(config.key, 'key'), ca: read(config.clientCa, 'client_ca') };
  try {
    tls.createSecureContext(material);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new SealdError('invalid-input', 'CONFIG_INVALID', `tls: the certificate, key or client CA bundle is not usable (${detail})`, { cause });
  }
  return material;
}

export async function listenTls(server: grpc.Server, listen: string, config: TlsConfig, logger: Logger, windows: Http2Windows = DEFAULT_HTTP2_WINDOWS): Promise<TlsListener> {
  const material = loadTlsMaterial(config);
  const injector = tunedConnectionInjector(server, windows); // HTTP/2 windows: listener.ts
  const listener = tls.createServer({
    ...material,
    requestCert: true,
    // Verification failures are handled below rather than by node:tls: with TLS 1.3 the client's certificate arrives
    // after the client considers the handshake done, and an automatic rejection surfaces only as ECONNRESET. Here
    // the reason (CERT_HAS_EXPIRED, UNABLE_TO_GET_ISSUER_CERT…) is logged and the connection closed before a
    // single HTTP/2 frame is read: an unverified connection never reaches grpc-js.
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    ALPNProtocols: ['h2'],
  });
  const refuse = (socket: tls.TLSSocket, reason: string): void => {
    logger.warn({ remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, reason }, 'TLS handshake refused');
    socket.destroy();
  };
  listener.on('secureConnection', (socket) => {
    if (!socket.authorized) {
      const error = socket.authorizationError as unknown;
      const reason = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
      refuse(socket, socket.getPeerCertificate()?.raw === undefined ? 'NO_CLIENT_CERTIFICATE' : reason);
      return;
    }
    injector.injectConnection(socket);
  });
  listener.on('tlsClientError', (error: NodeJS.ErrnoException, socket) => refuse(socket, error.code ?? error.message));
  await listenOn(listener, listen);
  const address = listener.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: () => new Promise((resolve) => listener.close(() => resolve())),
  };
}

/** The caller of a call: the verified client certificate's principal, or anonymous on a plaintext connection. */
export function principalOf(call: { getAuthContext(): { sslPeerCertificate?: tls.PeerCertificate } }): Principal {
  const certificate = call.getAuthContext().sslPeerCertificate;
  return certificate === undefined ? ANONYMOUS : principalFromCertificate(certificate);
}
