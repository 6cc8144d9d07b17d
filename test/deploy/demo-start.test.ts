/**
 * The demo image's start without a container engine: deploy/Dockerfile's ENTRYPOINT + CMD, run as a process with the
 * image's environment (SEALD_LISTEN=0.0.0.0:…, no configuration) on a fresh data directory. Secure by default refuses
 * plaintext off loopback, so the embedded defaults must provision TLS from the dev CA and serve it; the CLI on the
 * same data directory (SEALD_DATA_DIR, as in the image) then seals over mutual TLS — the activation demo's PIN
 * included — and the image's own HEALTHCHECK answers SERVING. Certificates checked with openssl, outputs with pdfsig.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures/index.ts';
import { run, runOk } from '../support/run.ts';
import { pdfsig } from '../support/tools.ts';
import { BIN, startNode, type ServeProcess } from './serve-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dockerfile = DockerfileParser.parse(fs.readFileSync(path.join(ROOT, 'deploy/Dockerfile'), 'utf8'));

function execForm(instruction: Instruction | undefined): string[] {
  return JSON.parse((instruction?.getArgumentsContent() ?? '').replace(/^CMD\s+/, '')) as string[];
}

/** ENV of the stages the demo inherits (runtime, then demo). */
function demoEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  let stage = '';
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') stage = instruction.getArguments()[2]?.getValue() ?? '';
    if (instruction.getKeyword() !== 'ENV' || !['runtime', 'demo'].includes(stage)) continue;
    for (const property of (instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }).getProperties()) {
      env[property.getName()] = property.getValue() ?? '';
    }
  }
  return env;
}

const lastOf = (keyword: string): Instruction | undefined => dockerfile.getInstructions().filter((i) => i.getKeyword() === keyword).at(-1);

let root: string;
let dataDir: string;
let server: ServeProcess;
let port: string;
/** What a shell in the container has: the image's environment (SEALD_DATA_DIR among it). */
let imageEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-demo-start-'));
  dataDir = path.join(root, 'var-lib-seald');
  const env = demoEnv();
  expect(env.SEALD_LISTEN).toMatch(/^0\.0\.0\.0:/);
  expect(env.SEALD_CONFIG).toBeUndefined();
  // The image's variables with free ports and a temp data dir instead of /var/lib/seald.
  imageEnv = { ...process.env, ...env, SEALD_LISTEN: '0.0.0.0:0', SEALD_METRICS: '127.0.0.1:0', SEALD_DATA_DIR: dataDir, SEALD_CONFIG: '' };
  const [node, ...entrypoint] = execForm(lastOf('ENTRYPOINT'));
  expect(node).toBe('node');
  const argv = [...entrypoint.map((arg) => (arg === '/app/bin/seald.mjs' ? BIN : arg)), ...execForm(lastOf('CMD'))];
  expect(argv).toContain(BIN);
  server = await startNode(argv, { ...imageEnv, SEALD_TLS_SERVER_NAMES: 'seald.example.test, 10.1.2.3' });
  port = server.address.split(':').pop()!;
}, 180_000);

afterAll(async () => {
  await server?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the demo image started as a process (ENTRYPOINT + CMD, SEALD_LISTEN=0.0.0.0)', () => {
  it('serves mutual TLS on 0.0.0.0 instead of refusing to start', () => {
    const listening = server.logs.find((l) => l.msg === 'seald listening')!;
    expect(listening.address).toMatch(/^0\.0\.0\.0:\d+$/);
    expect(listening.tls).toBe('mutual');
    expect(server.logs.some((l) => l.msg === 'issued demo TLS certificate')).toBe(true);
  });

  it('provisions a server certificate from the dev CA for this host, loopback and the configured names', async () => {
    const ca = path.join(dataDir, 'ca/dev-ca.pem');
    const serverPem = path.join(dataDir, 'tls/server.pem');
    expect((await runOk('openssl', ['verify', '-CAfile', ca, '-purpose', 'sslserver', serverPem])).stdout.toString()).toContain(': OK');
    expect((await runOk('openssl', ['verify', '-CAfile', ca, '-purpose', 'sslclient', path.join(dataDir, 'tls/client.pem')])).stdout.toString()).toContain(': OK');
    // The client certificate is not a server's, and the server's not a client's (extendedKeyUsage).
    expect((await run('openssl', ['verify', '-CAfile', ca, '-purpose', 'sslclient', serverPem])).code).not.toBe(0);
    const sans = (await runOk('openssl', ['x509', '-in', serverPem, '-noout', '-ext', 'subjectAltName'])).stdout.toString();
    for (const name of [`DNS:${os.hostname()}`, 'DNS:localhost', 'DNS:seald.example.test', 'IP Address:127.0.0.1', 'IP Address:10.1.2.3']) {
      expect(sans).toContain(name);
    }
    for (const key of ['tls/server.key.pem', 'tls/client.key.pem']) expect(fs.statSync(path.join(dataDir, key)).mode & 0o777, key).toBe(0o600);
  });

  it('the HEALTHCHECK (same data dir) answers SERVING over TLS', async () => {
    const command = execForm(dockerfile.getHEALTHCHECKs()[0]);
    const args = command.slice(2).map((arg) => (arg === '127.0.0.1:50051' ? `127.0.0.1:${port}` : arg));
    expect(args).toContain(`127.0.0.1:${port}`);
    const result = await run(process.execPath, [BIN, ...args], { env: imageEnv });
    expect({ code: result.code, stdout: result.stdout.toString() }).toEqual({ code: 0, stdout: 'SERVING\n' });
  });

  it('the CLI on the same data dir seals over TLS, the activation seal with its PIN; pdfsig trusts the dev CA', async () => {
    const input = await fixture('simple');
    const anchors = [path.join(dataDir, 'ca/dev-ca.pem')];
    const org = path.join(root, 'org.pdf');
    const seal = (args: string[]) => run(process.execPath, [BIN, 'seal', '--server', `localhost:${port}`, ...args], { env: imageEnv });
    const first = await seal(['--seal', 'org', '--page', '1', '--x', '200', '--y', '200', input, '-o', org]);
    expect(first.code, first.stderr).toBe(0);
    const legal = path.join(root, 'legal-rep.pdf');
    const second = await seal(['--seal', 'legal-rep', '--pin-file', path.join(dataDir, 'token.pin'), '--page', '1', '--x', '300', '--y', '300', org, '-o', legal]);
    expect(second.code, second.stderr).toBe(0);
    const report = await pdfsig(legal, { trustCaPems: anchors });
    expect(report.signatures.map((s) => s.validationText)).toEqual(['Signature is Valid.', 'Signature is Valid.']);
    expect(report.signatures.map((s) => s.certificateTrusted)).toEqual([true, true]);
  }, 120_000);

  it('a client without the data dir\'s certificate is refused; --data-dir names it explicitly', async () => {
    const elsewhere = { ...imageEnv, SEALD_DATA_DIR: path.join(root, 'empty') };
    const plaintext = await run(process.execPath, [BIN, 'seals', '--server', `127.0.0.1:${port}`], { env: elsewhere });
    expect(plaintext.code).not.toBe(0);
    const explicit = await run(process.execPath, [BIN, 'seals', '--server', `127.0.0.1:${port}`, '--data-dir', dataDir], { env: elsewhere });
    expect(explicit.code, explicit.stderr).toBe(0);
    expect(explicit.stdout.toString()).toContain('legal-rep');
  });
});
