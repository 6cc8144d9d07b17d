/**
 * A seal that lives on its token (issue 22): a SoftHSM token prepared only with `seald admin` — key generated on
 * it, its certificate chain and seal image written with `seald admin write-certificate` / `write-image`, the files
 * then deleted — serves a seal configured by its key label alone. The output is valid per pdfsig (trusting the dev
 * CA) and shows the image where asked (pdftoppm). A chain for another key is refused by `seald admin`.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, listSeals, sealRemote, type SealClient } from '../../src/cli/client.ts';
import { derToPem } from '../../src/crypto/certificate.ts';
import { createDevCa, issueEndEntityCertificate } from '../../src/crypto/dev-ca.ts';
import { SealHeaderSchema, SealKind } from '../../src/gen/seald/v1/seald_pb.ts';
import { generateKeyPair } from '../../src/pool/admin.ts';
import { drawOrganizationSeal } from '../../src/provision/seal-image.ts';
import { loadServerConfig, startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { fixture } from '../fixtures/index.ts';
import { createSoftHsm, SOFTHSM_MODULE, type SoftHsm } from '../pool/softhsm.ts';
import { pdfsig, redPixels, renderPage } from '../support/tools.ts';
import { BIN } from '../deploy/serve-process.ts';

const execFileP = promisify(execFile);
const PIN = '246810';

let hsm: SoftHsm;
let dir: string;
let configPath: string;
let caPath: string;
let png: Buffer;
let server: SealdServer;
let client: SealClient;

async function admin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [BIN, 'admin', ...args], { env: { ...process.env, SEALD_CONFIG: '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  hsm = await createSoftHsm();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-token-seal-'));
  await hsm.initToken('ukey', PIN);
  const spki = generateKeyPair(SOFTHSM_MODULE, 'ukey', PIN, { label: 'contract', type: 'EC-P256', env: hsm.env });
  const other = generateKeyPair(SOFTHSM_MODULE, 'ukey', PIN, { label: 'other', type: 'EC-P256', env: hsm.env });
  const ca = await createDevCa();
  const now = Date.now();
  const validity = { notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 365 * 86_400_000) };
  const certificate = await issueEndEntityCertificate({ ca, subjectPublicKeyInfo: spki, subject: { country: 'CN', organization: '令牌商贸有限公司', commonName: '合同专用章' }, validity });
  const otherCertificate = await issueEndEntityCertificate({ ca, subjectPublicKeyInfo: other, subject: { country: 'CN', commonName: 'other' }, validity });
  caPath = path.join(dir, 'ca.pem');
  fs.writeFileSync(caPath, derToPem(ca.certificate));
  fs.writeFileSync(path.join(dir, 'pin'), `${PIN}\n`, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'chain.pem'), derToPem(certificate) + derToPem(ca.certificate));
  fs.writeFileSync(path.join(dir, 'wrong.pem'), derToPem(otherCertificate) + derToPem(ca.certificate));
  png = drawOrganizationSeal({ sizePx: 400, name: '令牌商贸有限公司' });
  fs.writeFileSync(path.join(dir, 'seal.png'), png);
  configPath = path.join(dir, 'seald.yaml');
  fs.writeFileSync(
    configPath,
    `pkcs11:
  module: ${SOFTHSM_MODULE}
  env: { SOFTHSM2_CONF: ${hsm.conf} }
  tokens:
    - label: ukey
      pin: { file: pin }
seals:
  - id: contract
    kind: contract
    name: 令牌商贸有限公司
    key: contract          # certificate and image: on the token
    size_mm: 40
trust:
  anchors: [ca.pem]
audit: { dir: audit }
`,
  );
}, 120_000);

afterAll(async () => {
  client?.close();
  await server?.shutdown('tests over');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(hsm.dir, { recursive: true, force: true });
});

describe('a seal that lives on its token', () => {
  it('seald admin refuses a chain for another key, and writes nothing', async () => {
    const refused = await admin(['write-certificate', '--config', configPath, '--key', 'contract', '--chain', path.join(dir, 'wrong.pem')]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/the first certificate is not for key "contract" on token "ukey"/);
    // Nothing on the token yet: a server cannot load the seal, and says what to do.
    const logger = pino({ level: 'silent' });
    const config = await loadServerConfig({ config: configPath, listen: '127.0.0.1:0', metrics: 'off', dataDir: dir }, logger, {});
    await expect(startSealdServer(config, logger)).rejects.toThrow(/seal "contract": no certificates file configured and none stored on the token next to key "contract" \(seald admin write-certificate\)/);
  }, 60_000);

  it('seald admin writes the chain and the image onto the token; the files can go', async () => {
    const chain = await admin(['write-certificate', '--config', configPath, '--key', 'contract', '--chain', path.join(dir, 'chain.pem')]);
    expect(chain.stderr).toBe('');
    expect(chain.stdout).toBe('wrote 2 certificates for key "contract" on token "ukey"\n');
    const image = await admin(['write-image', '--config', configPath, '--key', 'contract', '--image', path.join(dir, 'seal.png')]);
    expect(image.stdout).toBe(`wrote the seal image (${png.byteLength} bytes) for key "contract" on token "ukey"\n`);
    // Written twice: replaced, not duplicated.
    expect((await admin(['write-image', '--config', configPath, '--key', 'contract', '--image', path.join(dir, 'seal.png')])).code).toBe(0);
    for (const file of ['chain.pem', 'wrong.pem', 'seal.png']) fs.rmSync(path.join(dir, file));
  }, 60_000);

  it('serves the seal from the token: listed with image and chain, output valid and showing the image', async () => {
    const logger = pino({ level: 'silent' });
    const config = await loadServerConfig({ config: configPath, listen: '127.0.0.1:0', metrics: 'off', dataDir: dir }, logger, {});
    expect(config.seals[0]!.certificates).toBeUndefined();
    expect(config.seals[0]!.image).toBeUndefined();
    server = await startSealdServer(config, logger);
    client = connect(server.address);
    const [info] = (await listSeals(client)).seals;
    expect(info!.kind).toBe(SealKind.CONTRACT);
    expect(info!.materialSource).toBe('token');
    expect(Buffer.from(info!.imagePng).equals(png)).toBe(true);
    expect(info!.certificateChain).toHaveLength(2);
    expect(info!.certificate!.subject).toContain('合同专用章');

    const input = await fixture('simple');
    const bytes = fs.readFileSync(input);
    const chunks: Uint8Array[] = [];
    await sealRemote(
      client,
      create(SealHeaderSchema, { sealId: 'contract', documentSize: BigInt(bytes.byteLength), placement: { kind: { case: 'position', value: { page: 1, x: 300, y: 200 } } } }),
      (async function* () {
        yield bytes;
      })(),
      async (chunk) => void chunks.push(chunk),
    );
    const output = path.join(dir, 'sealed.pdf');
    fs.writeFileSync(output, Buffer.concat(chunks));
    const report = await pdfsig(output, { trustCaPems: [caPath] });
    expect(report.signatures.map((s) => s.validationText)).toEqual(['Signature is Valid.']);
    const size = (40 * 72) / 25.4;
    const red = redPixels(await renderPage(output, 1, 50), { x: 300 - size / 2, y: 200 - size / 2, w: size, h: size });
    expect(red.inside).toBeGreaterThan(50);
    expect(red.outside).toBeLessThan(red.inside * 0.05);
  }, 120_000);
});
