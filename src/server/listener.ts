/**
 * seald's own listeners for the gRPC port, and the HTTP/2 flow-control windows of the sessions on them.
 *
 * grpc-js has no server option for HTTP/2 flow control. seald therefore owns its listeners (node:net here, node:tls
 * in tls.ts) and hands each connection to grpc-js through a connection injector, whose HTTP/2 server is created with
 * the windows below: the one place to set what a client may send ahead (RFC 9113 §6.9: SETTINGS_INITIAL_WINDOW_SIZE
 * per stream, §6.9.2; the connection window, raised with WINDOW_UPDATE on stream 0 via `session.setLocalWindowSize`).
 *
 * Today both are the protocol's default, 65,535 bytes. Session 7 raised them to 8 MiB per stream and 32 MiB per
 * connection; that moved the bare hop (floor over gRPC 1.51× → 0.80× the floor on an idle machine) while seald's own
 * batch stayed within noise (its time goes to sealing) — and it cost memory: the bytes a client
 * may send ahead sit in the server (nghttp2's and grpc-js's buffers, then decoded 1 MiB messages) while the batch
 * reader is paused at its in-flight limit (batch-reader.ts). Session 8 measured the server's VmHWM over the bench
 * corpus (380 documents, 3 rounds, loaded machine; bench/README.md, "Session 8: memory"):
 *
 *   windows (stream / connection)   seald batch      cross-page seal
 *   65,535 / 65,535 (defaults)      138–142 MiB      174–189 MiB
 *   1 MiB / 16 MiB                  139–144 MiB      183–200 MiB
 *   2 MiB / 16 MiB                  141–159 MiB      193–216 MiB
 *   8 MiB / 32 MiB (session 7)      150–167 MiB      190–228 MiB (two runs of 3 rounds)
 *
 * Only the defaults kept the cross-page runner under the 200 MiB goal in every round (less in-memory spooling did
 * not: 204–216 MiB). Whether they cost seald docs/s the loaded machine could not tell (the 8/32 runs were both the
 * slowest and the fastest); an idle-machine A/B should. What they surely cost is the bare hop
 * (bench/runners/floor-grpc.ts listens here too, so the floor over gRPC is measured with the same windows): a
 * deployment that moves large documents over a long link and has memory to spare raises them with
 * `limits.http2_window_bytes` (SEALD_HTTP2_WINDOW_BYTES: the stream window; the connection's is four times it), at
 * 15–40 MiB more peak for the figures above; on an idle machine 8 MiB bought seald 20–27 % (bench/README.md). The client side sets its own receive window (`grpc-node.flow_control_window`,
 * src/rpc/channel-options.ts): it governs answers, small in a batch.
 */
// The module object itself (what grpc-js's require('http2') returns), not an ES namespace: its factory is replaced
// for the duration of one call below.
import http2 from 'node:http2';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';

/** RFC 9113 §6.5.2's default SETTINGS_INITIAL_WINDOW_SIZE: memory first (see above). */
export const HTTP2_STREAM_WINDOW_BYTES = 65_535;
/** The connection window's initial size (RFC 9113 §6.9.2): not raised (see above). */
export const HTTP2_CONNECTION_WINDOW_BYTES = 65_535;

/** The windows a server session grants: per stream (SETTINGS_INITIAL_WINDOW_SIZE) and for the connection. */
export interface Http2Windows {
  stream: number;
  connection: number;
}

export const DEFAULT_HTTP2_WINDOWS: Http2Windows = { stream: HTTP2_STREAM_WINDOW_BYTES, connection: HTTP2_CONNECTION_WINDOW_BYTES };

/** RFC 9113 §6.9.1: a flow-control window never exceeds 2^31-1 octets. */
export const MAX_HTTP2_WINDOW_BYTES = 2 ** 31 - 1;

/**
 * The windows for a configured stream window (limits.http2_window_bytes): the connection's is four times it, so four
 * documents of a batch upload side by side (the 8 MiB / 32 MiB pair measured in session 7); undefined: the defaults.
 */
export function http2WindowsFor(streamBytes: number | undefined): Http2Windows {
  if (streamBytes === undefined) return DEFAULT_HTTP2_WINDOWS;
  return { stream: streamBytes, connection: Math.min(MAX_HTTP2_WINDOW_BYTES, Math.max(HTTP2_CONNECTION_WINDOW_BYTES, 4 * streamBytes)) };
}

export type ConnectionInjector = ReturnType<grpc.Server['createConnectionInjector']>;

/**
 * A connection injector whose HTTP/2 sessions use seald's windows. grpc-js builds the injector's HTTP/2 server with
 * `http2.createServer` while `createConnectionInjector` runs (synchronously); for that one call the factory adds the
 * initial window setting and a session listener that raises the connection window, then is put back.
 */
export function tunedConnectionInjector(server: grpc.Server, windows: Http2Windows = DEFAULT_HTTP2_WINDOWS): ConnectionInjector {
  const original = http2.createServer;
  const tuned = ((options: http2.ServerOptions = {}, listener?: Parameters<typeof http2.createServer>[1]) => {
    const created = original(
      { ...options, settings: { ...options.settings, initialWindowSize: windows.stream } },
      listener,
    );
    created.on('session', (session: http2.ServerHttp2Session) => {
      session.setLocalWindowSize(windows.connection);
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
export async function listenPlaintext(server: grpc.Server, listen: string, windows: Http2Windows = DEFAULT_HTTP2_WINDOWS): Promise<Listener> {
  const injector = tunedConnectionInjector(server, windows);
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
