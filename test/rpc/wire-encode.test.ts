/**
 * The one-copy encoder of document chunks must produce what protobuf-es produces: the same bytes for seald's chunk
 * messages (so any gRPC peer reads them), and messages that decode to the same values otherwise.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { BatchService, SealBatchRequestSchema, SealBatchResponseSchema } from '../../src/gen/seald/v1/batch_pb.ts';
import { SealRequestSchema, SealResponseSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { grpcServiceDefinition } from '../../src/rpc/grpc-service.ts';
import { encodeAround, encoded, encodeMessage } from '../../src/rpc/wire-encode.ts';

/** Plain Uint8Array (what decoding gives), not a Buffer, so decoded messages compare equal. */
const randomBytes = (size: number): Uint8Array => new Uint8Array(nodeRandomBytes(size));

function same<S extends DescMessage>(schema: S, init: MessageInitShape<S>): void {
  const message = create(schema, init);
  const encoded = encodeMessage(schema, message);
  const reference = Buffer.from(toBinary(schema, message));
  expect(Buffer.from(encoded).equals(reference)).toBe(true);
  // And it reads back as the same message (compared by its encoding: deep equality of MiB arrays is slow).
  expect(Buffer.from(toBinary(schema, fromBinary(schema, encoded))).equals(reference)).toBe(true);
}

describe('encodeMessage', () => {
  const sizes = [0, 1, 127, 128, 16 * 1024 - 1, 16 * 1024, 300_000, 1024 * 1024, 2 * 1024 * 1024 + 3];

  it('a SealBatchRequest chunk (bytes two levels down) is byte-identical to toBinary, for every length class', () => {
    for (const size of sizes) {
      for (const documentId of ['d', '合同-2026-第七号.pdf', 'x'.repeat(256)]) {
        same(SealBatchRequestSchema, { payload: { case: 'chunk', value: { documentId, data: randomBytes(size) } } });
      }
    }
  });

  it('SealBatchResponse, SealRequest and SealResponse chunks (bytes in a oneof) are byte-identical to toBinary', () => {
    for (const size of sizes) {
      const data = randomBytes(size);
      same(SealBatchResponseSchema, { documentId: 'doc-1', payload: { case: 'chunk', value: data } });
      same(SealRequestSchema, { payload: { case: 'chunk', value: data } });
      same(SealResponseSchema, { payload: { case: 'chunk', value: data } });
    }
  });

  it('messages without a large bytes field go through toBinary unchanged', () => {
    same(SealBatchRequestSchema, {
      payload: { case: 'start', value: { documentId: 'a', sealId: 'org', placement: { kind: { case: 'position', value: { page: 2, x: 10, y: 20 } } } } },
    });
    same(SealBatchRequestSchema, { payload: { case: 'header', value: { sealId: 'org', answer: 2 } } });
  });

  it('a large chunk takes the one-copy path (a Buffer of the exact size), a small one the plain encoder', () => {
    const chunk = (data: Uint8Array) => create(SealBatchRequestSchema, { payload: { case: 'chunk', value: { documentId: 'z', data } } });
    const large = encodeMessage(SealBatchRequestSchema, chunk(randomBytes(1024 * 1024)));
    expect(Buffer.isBuffer(large)).toBe(true); // toBinary returns a plain Uint8Array
    expect(large.byteLength).toBe(large.buffer.byteLength);
    expect(large.byteLength).toBe(1024 * 1024 + 1 + 3 + 1 + 1 + 1 + 1 + 3); // tags, varint lengths, the id 'z'
    expect(Buffer.isBuffer(encodeMessage(SealBatchRequestSchema, chunk(randomBytes(1000))))).toBe(false);
  });
});

describe('encodeAround', () => {
  it('leaves room for the bytes where the marker is: once filled, the frame is byte-identical to toBinary', () => {
    // (No length 0: proto3 leaves an empty bytes field out, this keeps its tag; the batch client sends no empty chunk.)
    for (const size of [1, 127, 128, 16 * 1024, 1024 * 1024 + 5]) {
      for (const documentId of ['d', '合同-2026-第七号.pdf']) {
        const room = new Uint8Array(0);
        const message = create(SealBatchRequestSchema, { payload: { case: 'chunk', value: { documentId, data: room } } });
        const { frame, data } = encodeAround(SealBatchRequestSchema, message, room, size);
        expect(data.byteLength).toBe(size);
        expect(data.buffer).toBe(frame.buffer); // a view into the frame, not a copy
        const bytes = randomBytes(size);
        data.set(bytes);
        const reference = toBinary(SealBatchRequestSchema, create(SealBatchRequestSchema, { payload: { case: 'chunk', value: { documentId, data: bytes } } }));
        expect(frame.equals(Buffer.from(reference))).toBe(true);
      }
    }
  });

  it('refuses a marker that is not one of the message bytes fields', () => {
    const message = create(SealBatchRequestSchema, { payload: { case: 'chunk', value: { documentId: 'a', data: new Uint8Array(0) } } });
    expect(() => encodeAround(SealBatchRequestSchema, message, new Uint8Array(0), 10)).toThrow(/marker/);
  });

  it('the grpc-service serializer sends an encoded() frame as it is and encodes real messages', () => {
    const serialize = grpcServiceDefinition(BatchService).sealBatch.requestSerialize;
    const frame = Buffer.from([0x1a, 0x03, 0x0a, 0x01, 0x61]);
    expect(serialize(encoded(SealBatchRequestSchema, frame)).equals(frame)).toBe(true);
    const real = create(SealBatchRequestSchema, { payload: { case: 'end', value: { documentId: 'a' } } });
    expect(serialize(real).equals(Buffer.from(toBinary(SealBatchRequestSchema, real)))).toBe(true);
  });
});
