/**
 * The placement and certification options of issue 20 through a real server (embedded defaults, SoftHSM) and the
 * `seald` CLI: --anchor/--margin, --occurrence N,M with Locate's list of hits, --certify; and the wire-level
 * refusals of what the CLI cannot send (an unset anchor, hits without OCCURRENCE_HITS).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { status as Status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, sealdErrorCode, type SealClient } from '../../src/cli/client.ts';
import { locateRemote } from '../../src/cli/commands/locate.ts';
import { LocateHeaderSchema, Occurrence, PlacementSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { loadServerConfig, startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { fixture, SEAL_LINE_PARTY_A } from '../fixtures/index.ts';
import { placementFixture } from '../fixtures/placement-fixtures.ts';
import { run } from '../support/run.ts';
import { pdfsig, qpdfCheck, redBounds, renderPage } from '../support/tools.ts';

const BIN = fileURLToPath(new URL('../../bin/seald.mjs', import.meta.url));
let dataDir: string;
let outDir: string;
let server: SealdServer;
let client: SealClient;
let caPem: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-place-data-'));
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-place-out-'));
  const logger = pino({ level: 'warn' });
  const config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
  server = await startSealdServer(config, logger, {});
  client = connect(server.address);
  caPem = config.trust.anchors[0]!;
});

afterAll(async () => {
  client?.close();
  await server?.shutdown('tests over');
  if (!process.env.KEEP) fs.rmSync(outDir, { recursive: true, force: true });
  if (!process.env.KEEP) fs.rmSync(dataDir, { recursive: true, force: true });
});

function seald(args: string[]) {
  return run(process.execPath, [BIN, ...args, '--server', server.address], { env: { ...process.env, SEALD_SERVER: '' } });
}

async function expectAccepted(file: string, signatures: number): Promise<void> {
  expect((await qpdfCheck(file)).status).toBe('ok');
  const report = await pdfsig(file, { trustCaPems: [caPem] });
  expect(report.signatures.map((s) => s.signatureValid)).toEqual(Array(signatures).fill(true));
  expect(report.signatures.at(-1)!.coversWholeDocument).toBe(true);
}

describe('seald seal --anchor', () => {
  it('bottom-right with a 20 mm margin on the last page of a rotated document lands 20 mm from its displayed corner', async () => {
    const input = await placementFixture('rotations');
    const output = path.join(outDir, 'anchor.pdf');
    const sealed = await seald(['seal', input, '-o', output, '--seal', 'org', '--anchor', 'bottom-right', '--margin', '20mm', '--page=-1', '--json']);
    expect(sealed.stderr).toBe('');
    expect(JSON.parse(sealed.stdout.toString()).pages).toEqual([4]);
    await expectAccepted(output, 1);
    // Page 4 has /Rotate 270: displayed landscape. The seal's red drawing ends near 20 mm (56.7 pt) from the
    // right and bottom edges (the drawing sits a little inside its 119 pt mark).
    const img = await renderPage(output, 4, 72);
    const b = redBounds(img)!;
    const margin = (20 * 72) / 25.4;
    expect(img.widthPts).toBeGreaterThan(img.heightPts);
    expect(img.widthPts - (b.x + b.w)).toBeGreaterThanOrEqual(margin - 1);
    expect(img.widthPts - (b.x + b.w)).toBeLessThan(margin + 8);
    expect(b.y).toBeGreaterThanOrEqual(margin - 1);
    expect(b.y).toBeLessThan(margin + 8);
  });

  it('usage errors name the option (exit 2)', async () => {
    const input = await placementFixture('one-page');
    for (const [args, message] of [
      [['--anchor', 'middle', '--page', '1'], /--anchor: expected one of top-left, top, top-right/],
      [['--anchor', 'top', '--margin', '2in', '--page', '1'], /--margin: expected a length such as 20mm/],
      [['--anchor', 'top'], /--anchor needs --page N or --pages SPEC/],
      [['--anchor', 'top', '--page', '1', '--x', '3'], /--x does not go with --anchor/],
      [['--page', '1', '--x', '1', '--y', '1', '--margin', '3'], /--margin does not go with a position/],
      [['--page', '1', '--x', '1', '--y', '1', '--certify', 'yes'], /--certify: expected no-changes or form-filling, got "yes"/],
    ] as const) {
      const r = await seald(['seal', input, '-o', path.join(outDir, 'never.pdf'), '--seal', 'org', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(fs.existsSync(path.join(outDir, 'never.pdf'))).toBe(false);
  });

  it('the wire refuses a relative placement without an anchor, and hits without OCCURRENCE_HITS', async () => {
    const input = fs.readFileSync(await placementFixture('one-page'));
    const ask = (placement: Parameters<typeof create<typeof PlacementSchema>>[1]) =>
      locateRemote(client, create(LocateHeaderSchema, { sealId: 'org', placement: create(PlacementSchema, placement) }), [input] as unknown as AsyncIterable<Uint8Array>).then(
        () => ({ code: Status.OK, seald: undefined as string | undefined, message: '' }),
        (e: { code: number; details: string }) => ({ code: e.code, seald: sealdErrorCode(e), message: e.details }),
      );
    const unanchored = await ask({ kind: { case: 'relative', value: { pages: '1' } } });
    expect(unanchored.code).toBe(Status.INVALID_ARGUMENT);
    expect(unanchored.message).toContain('anchor is required');
    const hits = await ask({ kind: { case: 'keyword', value: { keyword: 'page', occurrence: Occurrence.FIRST, hits: [1] } } });
    expect(hits.code).toBe(Status.INVALID_ARGUMENT);
    expect(hits.message).toContain('OCCURRENCE_HITS');
  });
});

describe('seald locate / seal --occurrence N,M', () => {
  it('locate lists every hit with its line; seal marks the chosen ones', async () => {
    const input = await fixture('cjk-contract');
    const keyword = SEAL_LINE_PARTY_A.slice(0, 2); // 甲方: in the parties' lines and the seal line
    const json = JSON.parse((await seald(['locate', input, '--seal', 'org', '--keyword', keyword, '--occurrence', '1,2', '--json'])).stdout.toString());
    const hits = json.hits as { number: number; page: number; context: string; chosen: boolean }[];
    expect(hits.length).toBeGreaterThanOrEqual(2);
    expect(hits.map((h) => h.number)).toEqual(hits.map((_, i) => i + 1));
    expect(hits.map((h) => h.chosen)).toEqual(hits.map((_, i) => i < 2));
    for (const h of hits) expect(h.context).toContain(keyword);
    expect(json.marks.map((m: { page: number }) => m.page)).toEqual(hits.slice(0, 2).map((h) => h.page));

    const table = (await seald(['locate', input, '--seal', 'org', '--keyword', keyword, '--occurrence', '1,2'])).stdout.toString();
    expect(table).toContain(`${hits.length} hits of the keyword (* = marked; choose with --occurrence N,M):`);
    expect(table).toMatch(/^\*1\s+\d+/m);

    const output = path.join(outDir, 'chosen.pdf');
    const sealed = await seald(['seal', input, '-o', output, '--seal', 'org', '--keyword', keyword, '--occurrence', '1,2', '--json']);
    expect(sealed.stderr).toBe('');
    expect(JSON.parse(sealed.stdout.toString()).pages).toEqual([...new Set(hits.slice(0, 2).map((h) => h.page))]);
    await expectAccepted(output, 1);
  });
});

describe('seald seal --certify', () => {
  it('no-changes: the certified output refuses a later seal with FAILED_PRECONDITION', async () => {
    const input = await placementFixture('one-page');
    const certified = path.join(outDir, 'certified.pdf');
    const first = await seald(['seal', input, '-o', certified, '--seal', 'org', '--page', '1', '--x', '200', '--y', '200', '--certify', 'no-changes']);
    expect(first.stderr).toBe('');
    await expectAccepted(certified, 1);
    const again = await seald(['seal', certified, '-o', path.join(outDir, 'certified-2.pdf'), '--seal', 'org', '--anchor', 'top', '--page', '1']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/FAILED_PRECONDITION: the document is certified with DocMDP P=1/);
  });

  it('a document that already carries a signature cannot be certified', async () => {
    const input = await fixture('signed-by-other');
    const r = await seald(['seal', input, '-o', path.join(outDir, 'late-cert.pdf'), '--seal', 'org', '--anchor', 'centre', '--page', '1', '--certify', 'form-filling']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAILED_PRECONDITION: the document already carries 1 signature .*a certification signature must be the first/);
  });
});
