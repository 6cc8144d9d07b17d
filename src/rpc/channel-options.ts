/**
 * Channel options every seald client uses. HTTP/2 flow control (RFC 9113 §6.9): grpc-js receives with a 65,535-byte
 * window by default, so a client reading sealed documents back would wait for a WINDOW_UPDATE round trip every
 * 64 KB. `grpc-node.flow_control_window` sets the client's initial stream window and raises its connection window.
 * The server's windows are set on its own listener (src/server/listener.ts). Measured: bench/README.md, "Session 7".
 */
export const CLIENT_FLOW_CONTROL_WINDOW_BYTES = 32 * 1024 * 1024;

export const CLIENT_CHANNEL_OPTIONS = { 'grpc-node.flow_control_window': CLIENT_FLOW_CONTROL_WINDOW_BYTES } as const;
