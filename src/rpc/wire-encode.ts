/**
 * Protobuf encoding of document chunks with one copy of their bytes instead of three.
 *
 * protobuf-es encodes a nested message by encoding it into its own buffer and copying that into the parent's
 * (`BinaryWriter.fork/join`), and `finish()` copies everything once more into the result. For a
 * `SealBatchRequest { chunk: DocumentChunk { document_id, data: 1 MiB } }` that is three 1 MiB allocations and copies
 * before grpc-js copies the message into its frame: on a 50 MB upload, garbage collection of those buffers was a
 * third of the client's CPU. Here a large `bytes` field (at most two message levels down, the way document chunks
 * are carried) is written once: the small rest of each level goes through `toBinary` as usual, the length prefixes
 * are computed, and the data is copied straight into the one result buffer (protobuf wire format, "Length-delimited"
 * records: tag, varint length, payload; a parser accepts fields in any order, and for seald's chunk messages the
 * bytes come out identical to `toBinary`'s, which test/server/wire-encode.test.ts checks).
 */
import { ScalarType, toBinary, type DescField, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { FeatureSet_FieldPresence } from '@bufbuild/protobuf/wkt';

/** Below this, the plain encoder is as good (the copies are cheap and this path's bookkeeping is not free). */
const LARGE_BYTES = 16 * 1024;
const MAX_DEPTH = 2;

/** `toBinary(schema, message)`, as one buffer, with a large bytes field copied only once. */
export function encodeMessage(schema: DescMessage, message: MessageShape<DescMessage>): Uint8Array {
  const route = bytesRoute(schema, message, 0, (value) => value.byteLength >= LARGE_BYTES);
  if (route === undefined) return toBinary(schema, message);
  return assemble(schema, message, route, undefined).frame;
}

/**
 * `message` encoded with room for `length` bytes in the bytes field that holds `room` (an empty array used only as a
 * marker): `frame` is the whole message, `data` the view of the room, to be filled before the frame is sent. The
 * batch client reads a file straight into `data`, so a document's bytes are copied into user space once (by the
 * read) instead of into a read buffer, then an encode buffer. Wrap the filled frame with `encoded()` to send it.
 */
export function encodeAround(
  schema: DescMessage,
  message: MessageShape<DescMessage>,
  room: Uint8Array,
  length: number,
): { frame: Buffer; data: Buffer } {
  const route = bytesRoute(schema, message, 0, (value) => value === room);
  if (route === undefined) throw new Error(`encodeAround: the marker is not a bytes field of ${schema.typeName} (at most ${MAX_DEPTH} levels down)`);
  const { frame, holeAt } = assemble(schema, message, route, length);
  return { frame, data: frame.subarray(holeAt, holeAt + length) };
}

const ENCODED = Symbol('seald.encoded');

/**
 * A message already in wire form, for a grpc-service serializer to send as it is (typed as the message it encodes
 * so that a typed call accepts it). Only for bytes that encode a `schema` message, e.g. an `encodeAround` frame.
 */
export function encoded<Desc extends DescMessage>(_schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  return { [ENCODED]: bytes } as unknown as MessageShape<Desc>;
}

/** The bytes of an `encoded()` message; undefined for a real message. */
export function encodedBytes(message: unknown): Uint8Array | undefined {
  return (message as { [ENCODED]?: Uint8Array })[ENCODED];
}

interface Step {
  field: DescField;
  value: unknown;
}

/** The fields leading to the bytes value `wanted` picks, outermost first; undefined when there is none. */
function bytesRoute(
  schema: DescMessage,
  message: Record<string, unknown>,
  depth: number,
  wanted: (value: Uint8Array) => boolean,
): Step[] | undefined {
  for (const field of schema.fields) {
    const value = fieldValue(field, message);
    if (value === undefined) continue;
    if (field.fieldKind === 'scalar' && field.scalar === ScalarType.BYTES && value instanceof Uint8Array) {
      if (wanted(value) && removable(field)) return [{ field, value }];
    } else if (field.fieldKind === 'message' && depth + 1 < MAX_DEPTH && removable(field)) {
      const inner = bytesRoute(field.message, value as Record<string, unknown>, depth + 1, wanted);
      if (inner !== undefined) return [{ field, value }, ...inner];
    }
  }
  return undefined;
}

/**
 * One buffer holding the encoding of `message`: the route's bytes copied in or, when `holeLength` is given, left as
 * `holeLength` unwritten bytes at `holeAt` (the route's bytes value is then only the marker of that room).
 */
function assemble(
  schema: DescMessage,
  message: Record<string, unknown>,
  route: Step[],
  holeLength: number | undefined,
): { frame: Buffer; holeAt: number } {
  const parts: Uint8Array[] = [];
  const total = encodeLevel(schema, message, route, parts, holeLength);
  const room = holeLength === undefined ? undefined : route[route.length - 1]!.value;
  const frame = Buffer.allocUnsafe(total);
  let offset = 0;
  let holeAt = -1;
  for (const part of parts) {
    if (part === room) {
      holeAt = offset;
      offset += holeLength!;
      continue;
    }
    frame.set(part, offset);
    offset += part.byteLength;
  }
  return { frame, holeAt };
}

/** Append the parts of `message` (the route's field last) to `parts`; returns their total length. */
function encodeLevel(
  schema: DescMessage,
  message: Record<string, unknown>,
  route: Step[],
  parts: Uint8Array[],
  holeLength: number | undefined,
): number {
  const [step, ...rest] = route as [Step, ...Step[]];
  const head = toBinary(schema, without(message, step.field));
  parts.push(head);
  const prefixAt = parts.length;
  let bodyLength: number;
  if (rest.length > 0) {
    bodyLength = encodeLevel(step.field.message!, step.value as Record<string, unknown>, rest, parts, holeLength);
  } else {
    const data = step.value as Uint8Array;
    parts.push(data);
    bodyLength = holeLength ?? data.byteLength;
  }
  const prefix = Buffer.from([...varint((step.field.number << 3) | 2), ...varint(bodyLength)]);
  parts.splice(prefixAt, 0, prefix);
  return head.byteLength + prefix.byteLength + bodyLength;
}

function fieldValue(field: DescField, message: Record<string, unknown>): unknown {
  if (field.oneof !== undefined) {
    const chosen = message[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
    return chosen?.case === field.localName ? chosen.value : undefined;
  }
  return message[field.localName];
}

/** Fields that can be left unset in the small part (anything singular but a proto2 `required` one). */
function removable(field: DescField): boolean {
  return field.oneof !== undefined || field.presence !== FeatureSet_FieldPresence.LEGACY_REQUIRED;
}

/** A shallow copy of `message` with `field` unset (still a message of its type: `$typeName` is copied along). */
function without(message: Record<string, unknown>, field: DescField): MessageShape<DescMessage> {
  const copy: Record<string, unknown> = { ...message };
  if (field.oneof !== undefined) copy[field.oneof.localName] = { case: undefined };
  else if (field.fieldKind === 'scalar' && field.presence === FeatureSet_FieldPresence.IMPLICIT) copy[field.localName] = new Uint8Array(0);
  else copy[field.localName] = undefined;
  return copy as MessageShape<DescMessage>;
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  let v = value >>> 0;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return bytes;
}
