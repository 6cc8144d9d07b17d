/**
 * seald's own listeners for the gRPC port, and the HTTP/2 flow-control windows of the sessions on them.
 *
 * grpc-js has no server option for HTTP/2 flow control: a server session receives with the protocol's default
 * windows (65,535 bytes for the connection and for each stream, RFC 9113 §6.9.2), so a client uploading documents
 * waits for a WINDOW_UPDATE every 64 KB, a round trip through both event loops. seald therefore owns its listeners
 * (node:net here, node:tls in tls.ts) and hands each connection to grpc-js through a connection injector, whose HTTP/2
 * server is created with these settings:
 *
 * - SETTINGS_INITIAL_WINDOW_SIZE 8 MiB (the `settings` of the HTTP/2 server): each stream may send 8 MiB ahead.
 * - the connection's local window raised to 32 MiB (`session.setLocalWindowSize` on each new session): several
 *   documents of a batch, or several Seal calls on one connection, upload side by side without waiting.
 *
 * The client side sets its own receive window with the channel option `grpc-node.flow_control_window`
 * (src/cli/client.ts). Memory: a window is permission to send, not a buffer the server allocates; what a call
 * reads is still bounded by its flow control (a batch stops reading at its in-flight limit: batch-reader.ts), so
 * the most a stalled connection can hold is its 32 MiB window. Measured effect: bench/README.md, "Session 7".
 */
// The module object itself (what grpc-js's require('http2') returns), not an ES namespace: its factory is replaced
// for the duration of one call below.
import http2 from 'node:http2';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';

export const HTTP2_STREAM_WINDOW_BYTES = 8 * 1024 * 1024;
export const HTTP2_CONNECTION_WINDOW_BYTES = 32 * 1024 * 1024;

export type ConnectionInjector = ReturnType<grpc.Server['createConnectionInjector']>;

/**
 * A connection injector whose HTTP/2 sessions use seald's windows. grpc-js builds the injector's HTTP/2 server with
 * `http2.createServer` while `createConnectionInjector` runs (synchronously); for that one call the factory adds the
 * initial window setting and a session listener that raises the connection window, then is put back.
 */
export function tunedConnectionInjector(server: grpc.Server): ConnectionInjector {
  const original = http2.createServer;
  const tuned = ((options: http2.ServerOptions = {}, listener?: Parameters<typeof http2.createServer>[1]) => {
    const created = original(
      { ...options, settings: { ...options.settings, initialWindowSize: HTTP2_STREAM_WINDOW_BYTES } },
      listener,
    );
    created.on('session', (session: http2.ServerHttp2Session) => {
      session.setLocalWindowSize(HTTP2_CONNECTION_WINDOW_BYTES);
    });
    return created;
  }) as typeof http2.createServer;
  http2.createServer = tuned;
  try {
    return server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  } finally {
    http2.createServer = original;
  }
}

export interface Listener {
  readonly port: number;
  /** Stop accepting connections (established ones are grpc-js's to drain). */
  close(): Promise<void>;
}

/** Listen on `host:port` without TLS; each connection goes to grpc-js through a tuned injector. */
export async function listenPlaintext(server: grpc.Server, listen: string): Promise<Listener> {
  const injector = tunedConnectionInjector(server);
  const listener = net.createServer((socket) => injector.injectConnection(socket));
  await listenOn(listener, listen);
  const address = listener.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: () => new Promise((resolve) => listener.close(() => resolve())),
  };
}

/** `host:port` (an IPv6 host in brackets) for a node:net or node:tls server. */
export async function listenOn(listener: net.Server, listen: string): Promise<void> {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(Number(listen.slice(colon + 1)), host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
}
