/**
 * A time-stamping authority for tests: OpenSSL's `openssl ts -reply` (an implementation independent of seald's)
 * behind a small HTTP server on 127.0.0.1, with its own TSA certificate (extendedKeyUsage critical timeStamping)
 * issued by a CA the test chooses (the dev CA of the embedded defaults, or a test PKI).
 *
 * `behaviour` switches the server between answering properly and the faults a real TSA shows: down (connection
 * refused), slow (answers after a delay), garbage (not DER), rejection (a PKIStatus of rejection), and a token for the
 * wrong imprint (a genuine, correctly signed reply to another request).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { runOk } from './run.ts';

export type TsaBehaviour =
  | { kind: 'ok' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'garbage' }
  | { kind: 'rejection' }
  | { kind: 'wrong-imprint' };

export interface TestTsa {
  /** http://127.0.0.1:<port>/tsr */
  url: string;
  /** PEM file of the TSA certificate. */
  certPem: string;
  /** PEM file of the CA that issued it (the TSA's trust anchor). */
  caPem: string;
  /** TSA policy OID the replies carry. */
  policy: string;
  /** Requests answered so far (any behaviour). */
  readonly requests: number;
  /** Authorization headers received, in order. */
  readonly authorizations: readonly (string | undefined)[];
  behaviour: TsaBehaviour;
  /** Closes the listening socket: later requests get ECONNREFUSED. */
  close(): Promise<void>;
}

export interface TestTsaOptions {
  dir: string;
  /** The CA that issues the TSA certificate: its PEM certificate and unencrypted PEM key. */
  ca: { certPem: string; keyPem: string };
  /** Require `Authorization: Basic …` with these credentials (401 otherwise). */
  basicAuth?: { user: string; password: string };
  policy?: string;
  name?: string;
}

export const TEST_TSA_POLICY = '1.3.6.1.4.1.55555.1.1';

export async function startTestTsa(opts: TestTsaOptions): Promise<TestTsa> {
  await mkdir(opts.dir, { recursive: true });
  const p = (name: string): string => join(opts.dir, name);
  const policy = opts.policy ?? TEST_TSA_POLICY;
  await runOk('openssl', [
    'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('tsa.key'), '-out', p('tsa.csr'),
    '-subj', `/CN=${opts.name ?? 'seald test TSA'}/O=seald tests`,
  ]); // prettier-ignore
  // RFC 3161 §2.3: the TSA certificate has exactly one extended key usage, id-kp-timeStamping, marked critical.
  await writeFile(
    p('tsa.ext'),
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n' +
      'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  await runOk('openssl', [
    'x509', '-req', '-sha256', '-days', '3650', '-in', p('tsa.csr'), '-CA', opts.ca.certPem, '-CAkey', opts.ca.keyPem,
    '-set_serial', '0x' + randomBytes(8).toString('hex').replace(/^./, '1'), '-extfile', p('tsa.ext'), '-out', p('tsa.pem'),
  ]); // prettier-ignore
  await writeFile(p('serial'), '01\n');
  await writeFile(p('tsa.cnf'), tsaConfig(opts.dir, opts.ca.certPem, policy));

  let behaviour: TsaBehaviour = { kind: 'ok' };
  let requests = 0;
  const authorizations: (string | undefined)[] = [];
  // openssl ts -reply rewrites the serial file: one reply at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const reply = (query: Buffer): Promise<Buffer> => {
    const next = queue.then(() => opensslReply(opts.dir, query));
    queue = next.catch(() => undefined);
    return next;
  };

  const expectedAuth =
    opts.basicAuth && 'Basic ' + Buffer.from(`${opts.basicAuth.user}:${opts.basicAuth.password}`).toString('base64');

  const server: Server = createServer((req, res) => {
    void (async () => {
      requests++;
      authorizations.push(req.headers.authorization);
      const body = await readBody(req);
      if (expectedAuth !== undefined && req.headers.authorization !== expectedAuth) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="tsa"' }).end();
        return;
      }
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(415).end();
        return;
      }
      const current = behaviour;
      let answer: Buffer;
      switch (current.kind) {
        case 'garbage':
          answer = Buffer.from('<html>not a time-stamp response</html>');
          break;
        case 'rejection':
          // TimeStampResp { status PKIStatusInfo { status rejection(2) } }
          answer = Buffer.from('3005300302 0102'.replace(/ /g, ''), 'hex');
          break;
        case 'wrong-imprint': {
          const other = await opensslQuery(opts.dir, randomBytes(32));
          answer = await reply(other);
          break;
        }
        default:
          answer = await reply(body);
      }
      if (current.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, current.delayMs));
      if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(answer);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('test TSA did not bind a TCP port');

  return {
    url: `http://127.0.0.1:${address.port}/tsr`,
    certPem: p('tsa.pem'),
    caPem: opts.ca.certPem,
    policy,
    get requests() {
      return requests;
    },
    authorizations,
    get behaviour() {
      return behaviour;
    },
    set behaviour(value: TsaBehaviour) {
      behaviour = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function tsaConfig(dir: string, caPem: string, policy: string): string {
  return `[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = ${dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = ${caPem}
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = ${policy}
other_policies = 1.3.6.1.4.1.55555.1.2
digests = sha256, sha384, sha512
accuracy = secs:1, millisecs:0, microsecs:0
clock_precision_digits = 0
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`;
}

let sequence = 0;

async function opensslReply(dir: string, query: Buffer): Promise<Buffer> {
  const id = `${process.pid}-${sequence++}`;
  const queryFile = join(dir, `q-${id}.tsq`);
  const replyFile = join(dir, `r-${id}.tsr`);
  await writeFile(queryFile, query);
  await runOk('openssl', ['ts', '-reply', '-config', join(dir, 'tsa.cnf'), '-queryfile', queryFile, '-out', replyFile]);
  return readFile(replyFile);
}

/** A genuine time-stamp query (with certReq) for `digest`, made by OpenSSL. */
async function opensslQuery(dir: string, digest: Uint8Array): Promise<Buffer> {
  const id = `${process.pid}-${sequence++}`;
  const queryFile = join(dir, `other-${id}.tsq`);
  await runOk('openssl', [
    'ts', '-query', '-digest', Buffer.from(digest).toString('hex'), '-sha256', '-cert', '-out', queryFile,
  ]); // prettier-ignore
  return readFile(queryFile);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** SHA-256 helper for tests that build imprints. */
export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}
