/**
 * Multi-page, cross-page and keyword seals and the Locate preview through the gRPC API and the CLI, on the real
 * SoftHSM token of the embedded defaults. What Locate says is checked against what a seal then shows (pdftoppm),
 * keyword marks against poppler's own text boxes (pdftotext -bbox-layout), and every output against pdfsig and qpdf.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { status as Status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, sealdErrorCode, sealRemote, UPLOAD_CHUNK_BYTES, type SealClient } from '../../src/cli/client.ts';
import { locateRemote } from '../../src/cli/commands/locate.ts';
import { main } from '../../src/cli/main.ts';
import {
  Edge,
  LocateHeaderSchema,
  Occurrence,
  PlacementSchema,
  SealHeaderSchema,
  type LocateResponse,
  type Placement,
} from '../../src/gen/seald/v1/seald_pb.ts';
import { loadServerConfig, startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { fixture } from '../fixtures/index.ts';
import { placementFixture } from '../fixtures/placement-fixtures.ts';
import { textFixture } from '../fixtures/text-fixtures.ts';
import { popplerKeywordBoxes } from '../support/pdftotext.ts';
import { run } from '../support/run.ts';
import { pdfsig, qpdfCheck, redBounds, redPixels, renderPage } from '../support/tools.ts';

const BIN = fileURLToPath(new URL('../../bin/seald.mjs', import.meta.url));
let dataDir: string;
let outDir: string;
let server: SealdServer;
let client: SealClient;
let caPem: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-placement-data-'));
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-placement-out-'));
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

function chunks(input: Uint8Array): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (let o = 0; o < input.length; o += UPLOAD_CHUNK_BYTES) yield input.subarray(o, o + UPLOAD_CHUNK_BYTES);
  })();
}

async function seal(name: string, input: Uint8Array, placement: Placement) {
  const parts: Uint8Array[] = [];
  const summary = await sealRemote(client, create(SealHeaderSchema, { sealId: 'org', placement }), chunks(input), (c) => void parts.push(c));
  const file = path.join(outDir, `${name}.pdf`);
  fs.writeFileSync(file, Buffer.concat(parts));
  return { summary, file };
}

function locate(input: Uint8Array, placement: Placement, sealId = 'org'): Promise<LocateResponse> {
  return locateRemote(client, create(LocateHeaderSchema, { sealId, placement }), chunks(input));
}

async function failure(call: Promise<unknown>): Promise<{ code: number; message: string; seald?: string }> {
  try {
    await call;
  } catch (e) {
    const err = e as { code: number; details: string };
    return { code: err.code, message: err.details, seald: sealdErrorCode(e) };
  }
  throw new Error('the call succeeded');
}

async function expectAccepted(file: string, signatures = 1): Promise<void> {
  const check = await qpdfCheck(file);
  expect(check.status, check.output).toBe('ok');
  const report = await pdfsig(file, { trustCaPems: [caPem] });
  expect(report.signatures).toHaveLength(signatures);
  for (const s of report.signatures) expect(s.signatureValid, s.raw).toBe(true);
  expect(report.signatures.at(-1)!.coversWholeDocument).toBe(true);
}

const placement = (kind: MessageInitShape<typeof PlacementSchema>['kind']): Placement => create(PlacementSchema, { kind });

describe('Locate previews exactly what Seal does', () => {
  it('cross-page: the located strips are where the sealed document shows them', async () => {
    const input = fs.readFileSync(await placementFixture('rotations'));
    const p = placement({ case: 'crossPage', value: { edge: Edge.LEFT, skipLast: true } });
    const located = await locate(input, p);
    expect(located.pageCount).toBe(4);
    expect(located.marks.map((m) => [m.page, m.stripIndex, m.stripCount, m.group])).toEqual([
      [1, 0, 3, 0],
      [2, 1, 3, 0],
      [3, 2, 3, 0],
    ]);
    const { summary, file } = await seal('locate-cross', input, p);
    expect(summary.pages).toEqual([1, 2, 3]);
    await expectAccepted(file);
    for (const m of located.marks) {
      const img = await renderPage(file, m.page, 72);
      const r = m.rect!;
      expect(r.x).toBe(0);
      const red = redPixels(img, { x: r.x, y: r.y - 1, w: r.width + 1, h: r.height + 2 });
      expect(red.inside, `page ${m.page}`).toBeGreaterThan(50);
      expect(red.outside, `page ${m.page}`).toBe(0);
    }
    expect(redPixels(await renderPage(file, 4, 72)).total).toBe(0);
  });

  it('multi-page: one mark per page of the spec, at the same displayed spot', async () => {
    const input = fs.readFileSync(await fixture('linearized'));
    const p = placement({ case: 'multiPage', value: { pages: 'even,-1', x: 200, y: 300 } });
    const located = await locate(input, p);
    expect(located.marks.map((m) => m.page)).toEqual([2, 4, 5]);
    const { summary, file } = await seal('locate-multi', input, p);
    expect(summary.pages).toEqual([2, 4, 5]);
    await expectAccepted(file);
    for (const m of located.marks) {
      const b = redBounds(await renderPage(file, m.page, 72))!;
      expect(b.x + b.w / 2).toBeCloseTo(200, -0.5);
      expect(b.y + b.h / 2).toBeCloseTo(300, -0.5);
      expect(m.rect!.x + m.rect!.width / 2).toBeCloseTo(200, 6);
    }
  });

  it('refusals: unknown seal, one page for a cross-page seal, a bad page spec', async () => {
    const onePage = fs.readFileSync(await placementFixture('one-page'));
    const unknown = await failure(locate(onePage, placement({ case: 'position', value: { page: 1, x: 1, y: 1 } }), 'nope'));
    expect([unknown.code, unknown.seald]).toEqual([Status.NOT_FOUND, 'SEAL_NOT_FOUND']);
    const cross = placement({ case: 'crossPage', value: {} });
    for (const call of [() => locate(onePage, cross), () => seal('never', onePage, cross)]) {
      const e = await failure(call());
      expect([e.code, e.seald]).toEqual([Status.INVALID_ARGUMENT, 'CROSS_PAGE_NEEDS_PAGES']);
      expect(e.message).toMatch(/at least 2 pages.*1 page/);
    }
    const spec = await failure(locate(onePage, placement({ case: 'multiPage', value: { pages: '1-4', x: 100, y: 100 } })));
    expect([spec.code, spec.seald]).toEqual([Status.INVALID_ARGUMENT, 'BAD_PAGE_SPEC']);
    expect(spec.message).toMatch(/"1-4": page 4 does not exist \(the document has 1 page\)/);
    const encrypted = await failure(locate(fs.readFileSync(await fixture('encrypted')), placement({ case: 'multiPage', value: { pages: 'all', x: 100, y: 100 } })));
    expect([encrypted.code, encrypted.seald]).toEqual([Status.FAILED_PRECONDITION, 'PDF_PASSWORD_REQUIRED']);
  });
});

describe('keyword seals (关键字签章)', () => {
  it('centres the seal on 乙方（盖章） as pdftotext sees it, and honours an offset', async () => {
    const source = await fixture('cjk-contract');
    const input = fs.readFileSync(source);
    const [box] = await popplerKeywordBoxes(source, 3, '乙方（盖章）');
    expect(box).toBeDefined();
    const cx = box!.x + box!.width / 2;
    const cy = box!.y + box!.height / 2;
    for (const [dx, dy] of [[0, 0], [40, -30]] as const) {
      const p = placement({ case: 'keyword', value: { keyword: '乙方（盖章）', dx, dy } });
      const { summary, file } = await seal(`keyword-${dx}`, input, p);
      expect(summary.pages).toEqual([3]);
      await expectAccepted(file);
      const b = redBounds(await renderPage(file, 3, 100))!;
      expect(Math.abs(b.x + b.w / 2 - (cx + dx))).toBeLessThan(2);
      expect(Math.abs(b.y + b.h / 2 - (cy + dy))).toBeLessThan(2);
      expect(fs.readFileSync(file).toString('latin1')).toContain('/Seald_Placement <</Kind /Keyword\n/Pages [3]');
    }
  });

  it('on pages turned by /Rotate 90, 180, 270 and a cropped page, the seal is centred on the text as displayed', async () => {
    const source = await textFixture('rotated-keywords');
    const input = fs.readFileSync(source);
    const { summary, file } = await seal('keyword-rotated', input, placement({ case: 'keyword', value: { keyword: '关键字', occurrence: Occurrence.ALL, width: 50, height: 50 } }));
    expect(summary.pages).toEqual([1, 2, 3, 4]);
    await expectAccepted(file);
    for (const page of [1, 2, 3, 4]) {
      const boxes = await popplerKeywordBoxes(source, page, '关键字');
      expect(boxes, `page ${page}`).toHaveLength(1);
      const b = boxes[0]!;
      const red = redBounds(await renderPage(file, page, 100))!;
      expect(Math.abs(red.x + red.w / 2 - (b.x + b.width / 2)), `page ${page}`).toBeLessThan(2);
      expect(Math.abs(red.y + red.h / 2 - (b.y + b.height / 2)), `page ${page}`).toBeLessThan(2);
    }
  });

  it('a keyword that is not there is NOT_FOUND naming it and the pages searched; nothing is sealed', async () => {
    const input = fs.readFileSync(await fixture('cjk-contract'));
    const p = placement({ case: 'keyword', value: { keyword: '丙方（盖章）' } });
    for (const call of [() => seal('missing', input, p), () => locate(input, p)]) {
      const e = await failure(call());
      expect([e.code, e.seald]).toEqual([Status.NOT_FOUND, 'KEYWORD_NOT_FOUND']);
      expect(e.message).toContain('"丙方（盖章）"');
      expect(e.message).toMatch(/3 pages/);
    }
    const limited = await failure(locate(input, placement({ case: 'keyword', value: { keyword: '乙方（盖章）', pages: '1-2' } })));
    expect(limited.message).toMatch(/pages 1-2 \(of 3\)/);
  });

  it('occurrence: all (one signature, a mark on each hit), first, last, the n-th; past the last is NOT_FOUND', async () => {
    const source = await textFixture('keyword-thrice');
    const input = fs.readFileSync(source);
    const boxes = [
      ...(await popplerKeywordBoxes(source, 1, '盖章处')).map((b) => ({ page: 1, ...b })),
      ...(await popplerKeywordBoxes(source, 2, '盖章处')).map((b) => ({ page: 2, ...b })),
    ];
    expect(boxes).toHaveLength(3);
    const centre = (m: LocateResponse['marks'][number]) => [m.page, m.rect!.x + m.rect!.width / 2, m.rect!.y + m.rect!.height / 2];
    const expected = boxes.map((b) => [b.page, b.x + b.width / 2, b.y + b.height / 2]);
    const at = async (occurrence: Occurrence, index = 0) =>
      (await locate(input, placement({ case: 'keyword', value: { keyword: '盖章处', occurrence, index } }))).marks.map(centre);
    const close = (got: (number)[][], want: (number)[][]) => {
      expect(got).toHaveLength(want.length);
      got.forEach((g, i) => {
        expect(g[0]).toBe(want[i]![0]);
        expect(Math.abs(g[1]! - want[i]![1]!)).toBeLessThan(1.5);
        expect(Math.abs(g[2]! - want[i]![2]!)).toBeLessThan(1.5);
      });
    };
    close(await at(Occurrence.ALL), expected);
    close(await at(Occurrence.FIRST), [expected[0]!]);
    close(await at(Occurrence.LAST), [expected[2]!]);
    close(await at(Occurrence.INDEX, 2), [expected[1]!]);
    const past = await failure(locate(input, placement({ case: 'keyword', value: { keyword: '盖章处', occurrence: Occurrence.INDEX, index: 4 } })));
    expect([past.code, past.seald]).toEqual([Status.NOT_FOUND, 'KEYWORD_NOT_FOUND']);
    expect(past.message).toMatch(/occurs 3 times/);

    const { summary, file } = await seal('keyword-all', input, placement({ case: 'keyword', value: { keyword: '盖章处', occurrence: Occurrence.ALL, width: 60, height: 60 } }));
    expect(summary.pages).toEqual([1, 2]);
    await expectAccepted(file);
    const page1 = await renderPage(file, 1, 72);
    for (const b of boxes.filter((x) => x.page === 1)) {
      expect(redPixels(page1, { x: b.x + b.width / 2 - 30, y: b.y + b.height / 2 - 30, w: 60, h: 60 }).inside).toBeGreaterThan(100);
    }
  });
});

describe('seald seal / seald locate (CLI)', () => {
  function seald(args: string[]) {
    return run(process.execPath, [BIN, ...args, '--server', server.address], { env: { ...process.env, SEALD_SERVER: '' } });
  }

  it('locate prints the strips as a table and as JSON; seal --cross-page writes what it showed', async () => {
    const input = await placementFixture('mixed-sizes');
    const options = ['--seal', 'org', '--cross-page', '--edge', 'top', '--pages', '2-4', '--min-strip', '5'];
    const table = await seald(['locate', input, ...options]);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const lines = table.stdout.toString().trimEnd().split('\n');
    expect(lines[0]).toBe(`${input}: 3 marks (document of 4 pages)`);
    expect(lines[1]).toMatch(/^page\s+x\s+y\s+width\s+height\s+group\s+strip$/);
    expect(lines[2]).toMatch(/^2\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+0\s+1\/3$/);
    const json = JSON.parse((await seald(['locate', input, ...options, '--json'])).stdout.toString());
    expect(json.marks.map((m: { page: number; strip: number }) => [m.page, m.strip])).toEqual([[2, 0], [3, 1], [4, 2]]);
    // Page 3 is A4 landscape as displayed: its strip touches its own top edge.
    expect(json.marks[1].y + json.marks[1].height).toBeCloseTo(595.28, 1);

    const output = path.join(outDir, 'cli-cross.pdf');
    const sealed = await seald(['seal', input, '-o', output, ...options]);
    expect(sealed.stderr).toBe('');
    expect(sealed.stdout.toString()).toMatch(/pages\s+2, 3, 4/);
    await expectAccepted(output);
  });

  it('seal --pages (multi-page) and --keyword; a missing keyword fails with NOT_FOUND', async () => {
    const input = await fixture('cjk-contract');
    const output = path.join(outDir, 'cli-multi.pdf');
    const multi = await seald(['seal', input, '-o', output, '--seal', 'org', '--pages', 'odd', '--x', '150', '--y', '150', '--json']);
    expect(multi.stderr).toBe('');
    expect(JSON.parse(multi.stdout.toString()).pages).toEqual([1, 3]);
    const twice = path.join(outDir, 'cli-keyword.pdf');
    const keyword = await seald(['seal', output, '-o', twice, '--seal', 'org', '--keyword', '甲方（盖章）', '--dy=-20', '--json']);
    expect(keyword.stderr).toBe('');
    expect(JSON.parse(keyword.stdout.toString()).pages).toEqual([3]);
    await expectAccepted(twice, 2);

    const missing = await seald(['locate', input, '--seal', 'org', '--keyword', '丙方']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^seald: NOT_FOUND: the keyword "丙方" is not on any of the document's 3 pages/);
  });

  it('usage errors name the option (exit 2, nothing sent)', async () => {
    let help = '';
    expect(await main(['help', 'locate'], { stdout: (t) => void (help += t), stderr: () => undefined, env: {} })).toBe(0);
    expect(help).toMatch(/^Usage: seald locate IN.pdf --seal ID <placement>/);
    expect(help).toContain('--cross-page');
    for (const [args, message] of [
      [['--pages', '1', '--page', '1', '--x', '1', '--y', '1'], /--page does not go with --pages/],
      [['--cross-page', '--edge', 'middle'], /--edge: expected right, left, top or bottom, got "middle"/],
      [['--keyword', 'x', '--occurrence', 'second'], /--occurrence: expected first, last, all or a number/],
      [['--cross-page', '--max-pages', '1'], /--max-pages: expected an integer ≥ 2/],
      [['--edge', 'left', '--page', '1', '--x', '1', '--y', '1'], /--edge does not go with a position/],
      [['--x', '1', '--y', '1'], /--page is required/],
    ] as const) {
      let stderr = '';
      const code = await main(['locate', 'in.pdf', '--seal', 'org', ...args], { stdout: () => undefined, stderr: (t) => void (stderr += t), env: {} });
      expect(code, stderr).toBe(2);
      expect(stderr).toMatch(message);
      expect(stderr).toMatch(/see `seald help locate`/);
    }
  });
});
