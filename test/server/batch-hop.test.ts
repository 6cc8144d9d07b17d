/**
 * The hop a batch's bytes cross: seald's own listener gives every HTTP/2 session the windows of
 * src/server/listener.ts, seen from an independent HTTP/2 client (node:http2) — the SETTINGS the server sends and the
 * connection window it grants — and the batch client asks for its own receive window.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectBatch } from '../../src/cli/batch-client.ts';
import { CLIENT_FLOW_CONTROL_WINDOW_BYTES } from '../../src/rpc/channel-options.ts';
import { HTTP2_CONNECTION_WINDOW_BYTES, HTTP2_STREAM_WINDOW_BYTES } from '../../src/server/listener.ts';
import { startBatchHarness, type BatchHarness } from './batch-harness.ts';

let h: BatchHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('the server\'s HTTP/2 windows', () => {
  it('announces the initial stream window of listener.ts and grants its connection window', async () => {
    h = await startBatchHarness();
    const session = http2.connect(`http://${h.server.address}`);
    try {
      const settings = await new Promise<http2.Settings>((resolve, reject) => {
        session.once('remoteSettings', resolve);
        session.once('error', reject);
      });
      expect(settings.initialWindowSize).toBe(HTTP2_STREAM_WINDOW_BYTES);
      // The connection window arrives as a WINDOW_UPDATE right after the SETTINGS.
      const until = Date.now() + 5000;
      while (session.state.remoteWindowSize !== HTTP2_CONNECTION_WINDOW_BYTES && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(session.state.remoteWindowSize).toBe(HTTP2_CONNECTION_WINDOW_BYTES);
    } finally {
      session.close();
    }
  });

  it('limits.http2_window_bytes raises the stream window it announces, and the connection window to four times it', async () => {
    h = await startBatchHarness({ limits: { http2WindowBytes: 8 * 1024 * 1024 } });
    const session = http2.connect(`http://${h.server.address}`);
    try {
      const settings = await new Promise<http2.Settings>((resolve, reject) => {
        session.once('remoteSettings', resolve);
        session.once('error', reject);
      });
      expect(settings.initialWindowSize).toBe(8 * 1024 * 1024);
      const until = Date.now() + 5000;
      while (session.state.remoteWindowSize !== 32 * 1024 * 1024 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(session.state.remoteWindowSize).toBe(32 * 1024 * 1024);
    } finally {
      session.close();
    }
  });

  it('the batch client announces a 32 MiB initial window to the server it connects to', async () => {
    // A bare HTTP/2 server stands in for seald: only the client's SETTINGS frame is looked at.
    const server = http2.createServer();
    const announced = new Promise<http2.Settings>((resolve) => server.on('session', (s) => s.once('remoteSettings', resolve)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = connectBatch(`127.0.0.1:${port}`);
    try {
      client.waitForReady(Date.now() + 5000, () => undefined);
      expect((await announced).initialWindowSize).toBe(CLIENT_FLOW_CONTROL_WINDOW_BYTES);
    } finally {
      client.close();
      server.close();
    }
  });
});
