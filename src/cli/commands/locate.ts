/**
 * `seald locate IN.pdf --seal ID <placement>`: ask a running server where a seal's marks would go (the Locate RPC),
 * and print them as a table or JSON. Nothing is signed.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  LocateHeaderSchema,
  LocateRequestSchema,
  type LocateHeader,
  type LocateRequest,
  type LocateResponse,
} from '../../gen/seald/v1/seald_pb.ts';
import { connectServers, UPLOAD_CHUNK_BYTES, type SealClient } from '../client.ts';
import { UsageError, type CliIo } from '../io.ts';
import { formatTable } from '../table.ts';
import { parseNumber, placementFromOptions, PLACEMENT_OPTIONS } from './placement-options.ts';
import { clientTls, serverAddresses, SERVER_OPTION } from './server-option.ts';
import { documentPassword, PASSWORD_OPTION } from '../password-option.ts';

export async function locateCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      seal: { type: 'string' },
      ...PLACEMENT_OPTIONS,
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...SERVER_OPTION,
      ...PASSWORD_OPTION,
    },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one input file', 'locate');
  const input = positionals[0]!;
  if (values.seal === undefined || values.seal === '') throw new UsageError('--seal is required', 'locate');
  const placement = placementFromOptions(values, 'locate');
  const timeout = values.timeout === undefined ? undefined : parseNumber(values.timeout, '--timeout', 'locate', { positive: true });

  const stat = await fs.promises.stat(input).catch(() => undefined);
  if (stat === undefined || !stat.isFile()) throw new Error(`cannot read ${input}: no such file`);
  const header = create(LocateHeaderSchema, {
    sealId: values.seal,
    placement,
    documentSize: BigInt(stat.size),
    documentPassword: await documentPassword(values, 'locate'),
  });

  const client = await connectServers(serverAddresses(values.server, io.env), {}, clientTls(values, io.env));
  try {
    const response = await locateRemote(
      client,
      header,
      fs.createReadStream(input, { highWaterMark: UPLOAD_CHUNK_BYTES }),
      timeout === undefined ? undefined : new Date(Date.now() + timeout * 1000),
    );
    io.stdout(values.json ? `${JSON.stringify(locateJson(response, input))}\n` : describeMarks(response, input));
    return 0;
  } finally {
    client.close();
  }
}

/** One Locate call: the header, then the document in chunks of at most 1 MiB (with backpressure). */
export async function locateRemote(
  client: SealClient,
  header: LocateHeader,
  body: AsyncIterable<Uint8Array>,
  deadline?: Date,
): Promise<LocateResponse> {
  let call: grpc.ClientWritableStream<LocateRequest> | undefined;
  const answer = new Promise<LocateResponse>((resolve, reject) => {
    call = client.locate(new grpc.Metadata(), deadline === undefined ? {} : { deadline }, (error, response) =>
      error !== null || response === undefined ? reject(error) : resolve(response),
    );
  });
  const stream = call!;
  let ended = false;
  void answer.catch(() => undefined).finally(() => (ended = true));
  const write = async (message: LocateRequest): Promise<boolean> => {
    if (ended) return false;
    if (stream.write(message)) return true;
    await Promise.race([once(stream, 'drain'), answer.catch(() => undefined)]);
    return !ended;
  };
  try {
    if (await write(create(LocateRequestSchema, { payload: { case: 'header', value: header } }))) {
      upload: for await (const piece of body) {
        for (let offset = 0; offset < piece.byteLength; offset += UPLOAD_CHUNK_BYTES) {
          const chunk = piece.subarray(offset, Math.min(offset + UPLOAD_CHUNK_BYTES, piece.byteLength));
          if (!(await write(create(LocateRequestSchema, { payload: { case: 'chunk', value: chunk } })))) break upload;
        }
      }
      stream.end();
    }
  } catch (error) {
    stream.cancel();
    await answer.catch(() => undefined);
    throw error;
  }
  return answer;
}

function locateJson(response: LocateResponse, input: string) {
  return {
    input,
    pageCount: response.pageCount,
    marks: response.marks.map((m) => ({
      page: m.page,
      x: round(m.rect?.x ?? 0),
      y: round(m.rect?.y ?? 0),
      width: round(m.rect?.width ?? 0),
      height: round(m.rect?.height ?? 0),
      ...(m.stripIndex === undefined ? {} : { strip: m.stripIndex, strips: m.stripCount, group: m.group }),
    })),
    ...(response.hits.length === 0
      ? {}
      : {
          hits: response.hits.map((h) => ({
            number: h.number,
            page: h.page,
            x: round(h.rect?.x ?? 0),
            y: round(h.rect?.y ?? 0),
            width: round(h.rect?.width ?? 0),
            height: round(h.rect?.height ?? 0),
            text: h.text,
            context: h.context,
            chosen: h.chosen,
          })),
        }),
  };
}

function describeMarks(response: LocateResponse, input: string): string {
  const json = locateJson(response, input);
  const crossPage = json.marks.some((m) => 'strip' in m);
  const header = ['page', 'x', 'y', 'width', 'height', ...(crossPage ? ['group', 'strip'] : [])];
  const rows = json.marks.map((m) => [
    String(m.page),
    String(m.x),
    String(m.y),
    String(m.width),
    String(m.height),
    ...('strip' in m ? [String(m.group), `${(m.strip ?? 0) + 1}/${m.strips}`] : []),
  ]);
  const count = json.marks.length;
  const marks = `${input}: ${count} mark${count === 1 ? '' : 's'} (document of ${json.pageCount} pages)\n${formatTable(header, rows)}`;
  if (json.hits === undefined) return marks;
  // Every hit of the keyword, numbered as --occurrence 1,3 takes them; * marks those this placement chose.
  const hitRows = json.hits.map((h) => [`${h.chosen ? '*' : ' '}${h.number}`, String(h.page), String(h.x), String(h.y), h.context]);
  return `${marks}\n${json.hits.length} hit${json.hits.length === 1 ? '' : 's'} of the keyword (* = marked; choose with --occurrence N,M):\n${formatTable(['hit', 'page', 'x', 'y', 'line'], hitRows)}`;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
