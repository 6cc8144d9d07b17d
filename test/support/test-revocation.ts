/**
 * Revocation services for tests, answered by OpenSSL (independent of seald): a small HTTP server on 127.0.0.1 whose
 * POST /ocsp runs `openssl ocsp` in one-shot mode against an index file, and whose GET /crl serves a CRL made by
 * `openssl ca -gencrl` from the same index, so revoking a certificate shows in both at once.
 *
 * The CA is the test's (the dev CA of the embedded defaults, say): its certificate and unencrypted PEM key sign the
 * OCSP responses and the CRL.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import { runOk } from './run.ts';

export type RevocationBehaviour = 'ok' | 'down' | 'garbage' | { slowMs: number };

export interface TestRevocation {
  ocspUrl: string;
  crlUrl: string;
  /** Adds a certificate to the CA's database as valid. */
  issue(certificateDer: Uint8Array): Promise<void>;
  /** Marks a certificate revoked (it must have been issued first). */
  revoke(certificateDer: Uint8Array, at?: Date): Promise<void>;
  behaviour: RevocationBehaviour;
  readonly ocspRequests: number;
  readonly crlRequests: number;
  close(): Promise<void>;
}

export async function startTestRevocation(opts: { dir: string; ca: { certPem: string; keyPem: string } }): Promise<TestRevocation> {
  await mkdir(opts.dir, { recursive: true });
  const p = (name: string): string => join(opts.dir, name);
  await writeFile(p('index.txt'), '');
  // OpenSSL's database refuses two entries with one subject unless told otherwise.
  await writeFile(p('index.txt.attr'), 'unique_subject = no\n');
  await writeFile(p('crlnumber'), '01\n');
  await writeFile(
    p('ca.cnf'),
    `[ ca ]\ndefault_ca = test_ca\n[ test_ca ]\ndatabase = ${p('index.txt')}\ncrlnumber = ${p('crlnumber')}\n` +
      `default_md = sha256\ndefault_crl_days = 7\nunique_subject = no\n`,
  );
  let behaviour: RevocationBehaviour = 'ok';
  let ocspRequests = 0;
  let crlRequests = 0;
  let sequence = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };

  const answerOcsp = (request: Buffer): Promise<Buffer> =>
    serial(async () => {
      const id = sequence++;
      await writeFile(p(`req-${id}.der`), request);
      await runOk('openssl', [
        'ocsp', '-index', p('index.txt'), '-CA', opts.ca.certPem, '-rsigner', opts.ca.certPem, '-rkey', opts.ca.keyPem,
        '-reqin', p(`req-${id}.der`), '-respout', p(`resp-${id}.der`), '-nmin', '60',
      ]); // prettier-ignore
      return readFile(p(`resp-${id}.der`));
    });

  const makeCrl = (): Promise<Buffer> =>
    serial(async () => {
      const id = sequence++;
      await runOk('openssl', [
        'ca', '-gencrl', '-config', p('ca.cnf'), '-keyfile', opts.ca.keyPem, '-cert', opts.ca.certPem,
        '-out', p(`crl-${id}.pem`), '-batch',
      ]); // prettier-ignore
      await runOk('openssl', ['crl', '-in', p(`crl-${id}.pem`), '-outform', 'DER', '-out', p(`crl-${id}.der`)]);
      return readFile(p(`crl-${id}.der`));
    });

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const current = behaviour;
      if (current === 'down') {
        req.socket.destroy();
        return;
      }
      if (typeof current === 'object') await new Promise((resolve) => setTimeout(resolve, current.slowMs));
      if (current === 'garbage') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('garbage');
        return;
      }
      if (req.method === 'POST' && req.url === '/ocsp') {
        ocspRequests++;
        const answer = await answerOcsp(body);
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(answer);
      } else if (req.method === 'GET' && req.url === '/crl') {
        crlRequests++;
        res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(await makeCrl());
      } else {
        res.writeHead(404).end();
      }
    })().catch((error: unknown) => {
      if (process.env.SEALD_TEST_DEBUG) console.error(error);
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('revocation server did not bind');
  const base = `http://127.0.0.1:${address.port}`;

  const entry = (der: Uint8Array): { serial: string; notAfter: string; subject: string } => {
    const cert = pkijs.Certificate.fromBER(new Uint8Array(der));
    let serial = Buffer.from(cert.serialNumber.valueBlock.valueHexView).toString('hex').toUpperCase();
    if (serial.length % 2 === 1) serial = `0${serial}`;
    return { serial, notAfter: indexTime(cert.notAfter.value), subject: `/CN=serial ${serial}` };
  };

  return {
    ocspUrl: `${base}/ocsp`,
    crlUrl: `${base}/crl`,
    async issue(der) {
      const e = entry(der);
      await serial(() => appendFile(p('index.txt'), `V\t${e.notAfter}\t\t${e.serial}\tunknown\t${e.subject}\n`));
    },
    async revoke(der, at = new Date()) {
      const e = entry(der);
      await serial(async () => {
        const lines = (await readFile(p('index.txt'), 'utf8')).split('\n');
        const updated = lines.map((line) => {
          const fields = line.split('\t');
          return fields[3] === e.serial ? ['R', fields[1], indexTime(at), ...fields.slice(3)].join('\t') : line;
        });
        await writeFile(p('index.txt'), updated.join('\n'));
      });
    },
    get behaviour() {
      return behaviour;
    },
    set behaviour(value) {
      behaviour = value;
    },
    get ocspRequests() {
      return ocspRequests;
    },
    get crlRequests() {
      return crlRequests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** OpenSSL's index.txt time: YYMMDDHHMMSSZ (two-digit years up to 2049). */
function indexTime(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
