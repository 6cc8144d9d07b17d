/**
 * The policy model on its own: validation errors that name the key, principal matching by subject and SAN (with
 * principals read from real certificates by node:tls' parser), grant windows, page limits, and the live store:
 * reload on an editor-style replace, a bad edit keeping the old policy, reload() as SIGHUP calls it.
 */
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyStore } from '../../src/auth/policy-store.ts';
import { authorize, defaultPolicy, networkPlaintextPolicy, parsePolicy, type Policy } from '../../src/auth/policy.ts';
import { ANONYMOUS, parseSubjectAltName, type Principal } from '../../src/auth/principal.ts';
import { runOk } from '../support/run.ts';

const erp: Principal = {
  name: 'CN=erp, O=Acme',
  authenticated: true,
  subject: { CN: ['erp'], O: ['Acme'] },
  sans: ['URI:spiffe://acme/erp', 'email:erp@acme.example'],
};

function policy(yaml: object): Policy {
  return parsePolicy(yaml, 'test.yaml');
}

describe('policy validation', () => {
  const cases: [string, unknown, string][] = [
    ['no principals list', {}, 'policy.principals: expected a list'],
    ['an unknown key', { principals: [], extra: 1 }, 'policy.extra: unknown setting'],
    ['an unknown operation', { principals: [{ name: 'a', match: { subject: { CN: 'a' } }, grants: [{ operations: ['fly'] }] }] }, 'policy.principals[0].grants[0].operations: unknown operation "fly"'],
    ['a seal operation without seals', { principals: [{ name: 'a', match: { subject: { CN: 'a' } }, grants: [{ operations: ['seal'] }] }] }, 'grants[0].seals: required'],
    ['an empty match', { principals: [{ name: 'a', match: {}, grants: [] }] }, 'policy.principals[0].match: give subject attributes'],
    ['a bad time', { principals: [{ name: 'a', match: { san: 'DNS:a' }, grants: [{ operations: ['verify'], not_after: 'soon' }] }] }, 'not_after: expected an ISO 8601 time'],
    ['a bad page range', { principals: [{ name: 'a', match: { san: 'DNS:a' }, grants: [{ seals: ['x'], operations: ['seal'], pages: ['5-2'] }] }] }, 'pages: expected page numbers or ranges'],
    ['an unknown seal kind', { principals: [{ name: 'a', match: { san: 'DNS:a' }, grants: [{ kinds: ['stamp'], operations: ['seal'] }] }] }, 'grants[0].kinds: unknown seal kind "stamp" (expected official, contract, finance, invoice, legal_representative, personal'],
    ['a duplicate principal', { principals: [{ name: 'a', match: { san: 'DNS:a' }, grants: [] }, { name: 'a', match: { san: 'DNS:b' }, grants: [] }] }, 'duplicate principal "a"'],
  ];
  for (const [what, value, message] of cases) {
    it(`refuses ${what}, naming the key`, () => {
      expect(() => parsePolicy(value, 'test.yaml')).toThrow(message);
    });
  }
});

describe('authorize', () => {
  const p = policy({
    principals: [
      { name: 'erp', match: { subject: { O: 'Acme' }, san: ['URI:spiffe://acme/erp'] }, grants: [
        { seals: ['org'], operations: ['seal'], pages: [1, '3-4'], placements: ['position'] },
        { seals: ['*'], operations: ['rollback'], not_before: '2099-01-01T00:00:00Z' },
        { operations: ['verify', 'list'] },
      ] },
    ],
  });

  it('allows what a grant covers and names what is missing otherwise', () => {
    expect(authorize(p, erp, 'seal', 'org', { pages: [3], placement: 'position' })).toBeUndefined();
    expect(authorize(p, erp, 'verify', undefined)).toBeUndefined();
    expect(authorize(p, erp, 'seal', 'personal')).toEqual({ permission: 'seal on seal "personal"', reason: 'no grant covers it' });
    expect(authorize(p, erp, 'seal', 'org', { pages: [2] })?.reason).toBe('page 2 is outside the pages the grant allows');
    expect(authorize(p, erp, 'seal', 'org', { placement: 'keyword' })?.reason).toBe('placement "keyword" is not allowed by the grant');
    expect(authorize(p, erp, 'rollback', 'org')?.reason).toBe('the grant starts on 2099-01-01T00:00:00.000Z');
    expect(authorize(p, erp, 'timestamp', undefined)).toEqual({ permission: 'timestamp', reason: 'no grant covers it' });
  });

  it('matches subject attributes and SANs together; a caller matching no principal gets no grant', () => {
    const withoutSan = { ...erp, sans: [] };
    expect(authorize(p, withoutSan, 'verify', undefined)?.reason).toBe('no grant for CN=erp, O=Acme');
    expect(authorize(p, ANONYMOUS, 'verify', undefined)?.reason).toBe('no grant for anonymous');
  });

  it('the built-in default lets anonymous and any verified client do everything', () => {
    const d = defaultPolicy();
    expect(authorize(d, ANONYMOUS, 'rollback', 'org')).toBeUndefined();
    expect(authorize(d, erp, 'batch', 'anything')).toBeUndefined();
  });
});

describe('sign-digest (local preparation): granted by name only', () => {
  const grants = (operations: string[], limits: object = {}) =>
    policy({ principals: [{ name: 'erp', match: { subject: { CN: 'erp' } }, grants: [{ seals: ['org'], operations, ...limits }] }] });

  it('is in neither the built-in default nor "*", and is allowed when named', () => {
    expect(authorize(defaultPolicy(), ANONYMOUS, 'sign-digest', 'org')?.permission).toBe('sign-digest on seal "org"');
    expect(authorize(grants(['*']), erp, 'seal', 'org')).toBeUndefined();
    expect(authorize(grants(['*']), erp, 'sign-digest', 'org')?.reason).toBe('no grant covers it');
    expect(authorize(grants(['*', 'sign-digest']), erp, 'sign-digest', 'org')).toBeUndefined();
    expect(authorize(grants(['sign-digest']), erp, 'sign-digest', 'other')?.permission).toBe('sign-digest on seal "other"');
  });

  it('is never covered by a grant limited to pages or placements: the server cannot see where the marks went', () => {
    for (const limits of [{ pages: [1] }, { placements: ['position'] }]) {
      expect(authorize(grants(['sign-digest'], limits), erp, 'sign-digest', 'org')?.reason).toMatch(/cannot cover sign-digest/);
      expect(authorize(grants(['seal'], limits), erp, 'seal', 'org', { pages: [1], placement: 'position' })).toBeUndefined();
    }
  });
});

describe('grants by seal kind', () => {
  const p = policy({
    principals: [
      { name: 'procurement', match: { subject: { O: 'Acme' } }, grants: [{ kinds: ['contract'], operations: ['seal'] }] },
      { name: 'accounts', match: { san: 'URI:spiffe://acme/erp' }, grants: [{ kinds: ['finance', 'organization'], seals: ['personal-li'], operations: ['seal'] }] },
    ],
  });

  it('"procurement may use contract seals": every contract seal, no other kind, and the id grant still works', () => {
    const procurement = { ...erp, sans: [] };
    expect(authorize(p, procurement, 'seal', 'contract-2', { sealKind: 'contract' })).toBeUndefined();
    expect(authorize(p, procurement, 'seal', 'hq', { sealKind: 'official' })).toEqual({ permission: 'seal on seal "hq"', reason: 'no grant covers it' });
    expect(authorize(p, procurement, 'seal', 'contract-2')?.reason).toBe('no grant covers it'); // kind unknown: no kind grant applies
    expect(authorize(p, erp, 'seal', 'hq', { sealKind: 'official' })).toBeUndefined(); // `organization` means official
    expect(authorize(p, erp, 'seal', 'personal-li', { sealKind: 'personal' })).toBeUndefined();
    expect(authorize(p, erp, 'seal', 'invoice-1', { sealKind: 'invoice' })).toEqual({ permission: 'seal on seal "invoice-1"', reason: 'no grant covers it' });
  });

  it('plaintext on the network: the built-in policy lets anonymous verify and list, nothing else', () => {
    const n = networkPlaintextPolicy();
    expect(authorize(n, ANONYMOUS, 'verify', undefined)).toBeUndefined();
    expect(authorize(n, ANONYMOUS, 'list', undefined)).toBeUndefined();
    for (const op of ['seal', 'batch', 'rollback'] as const) expect(authorize(n, ANONYMOUS, op, 'org', { sealKind: 'official' })).toBeDefined();
    expect(authorize(n, ANONYMOUS, 'timestamp', undefined)).toBeDefined();
    expect(authorize(n, ANONYMOUS, 'locate', undefined)).toBeDefined();
  });
});

describe('principal from a certificate', () => {
  it('reads SANs as node:tls prints them, quoted values included', () => {
    expect(parseSubjectAltName('DNS:a.example, URI:spiffe://acme/erp, email:x@y.z, IP Address:10.0.0.1')).toEqual([
      'DNS:a.example', 'URI:spiffe://acme/erp', 'email:x@y.z', 'IP Address:10.0.0.1',
    ]);
    expect(parseSubjectAltName('DNS:"a,b", DNS:c')).toEqual(['DNS:a,b', 'DNS:c']);
  });

  it('reads the SANs of a real certificate (openssl-made) as node reports them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-san-test-'));
    try {
      await runOk('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k.pem'),
        '-out', path.join(dir, 'c.pem'), '-subj', '/O=Acme/CN=erp', '-days', '1',
        '-addext', 'subjectAltName=URI:spiffe://acme/erp,email:erp@acme.example,IP:10.0.0.1,DNS:erp.acme.example',
      ]);
      const certificate = new X509Certificate(fs.readFileSync(path.join(dir, 'c.pem')));
      expect(parseSubjectAltName(certificate.subjectAltName)).toEqual([
        'URI:spiffe://acme/erp', 'email:erp@acme.example', 'IP Address:10.0.0.1', 'DNS:erp.acme.example',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('policy store', () => {
  let dir: string;
  const messages: string[] = [];
  const log = { info: (_: object, m: string) => void messages.push(m), error: (_: object, m: string) => void messages.push(m) };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-policy-test-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const yaml = (operations: string) => `principals:\n  - name: erp\n    match: { subject: { O: Acme } }\n    grants:\n      - operations: [${operations}]\n`;

  it('reloads when an editor replaces the file, keeps the old policy on a bad edit, reloads on request', async () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, yaml('verify'));
    const store = await PolicyStore.open({ file, section: false }, log);
    try {
      const before = store.current();
      expect(authorize(before, erp, 'list', undefined)).toBeDefined();
      fs.writeFileSync(`${file}.swp`, yaml('verify, list'));
      fs.renameSync(`${file}.swp`, file);
      for (let i = 0; i < 200 && store.generation === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(store.generation).toBe(1);
      expect(authorize(store.current(), erp, 'list', undefined)).toBeUndefined();
      // The policy a call took stays what it was.
      expect(authorize(before, erp, 'list', undefined)).toBeDefined();

      fs.writeFileSync(file, 'principals: [');
      await store.reload('SIGHUP');
      expect(store.generation).toBe(1);
      expect(messages).toContain('policy not reloaded: the previous policy stays in force');
      expect(authorize(store.current(), erp, 'list', undefined)).toBeUndefined();

      fs.writeFileSync(file, yaml('list'));
      await store.reload('SIGHUP');
      expect(authorize(store.current(), erp, 'verify', undefined)).toBeDefined();
    } finally {
      store.close();
    }
  });

  it('reads the policy section of a configuration file', async () => {
    const file = path.join(dir, 'seald.yaml');
    fs.writeFileSync(file, `listen: 127.0.0.1:1\npolicy:\n${yaml('verify').replace(/^/gm, '  ')}`);
    const store = await PolicyStore.open({ file, section: true }, log);
    store.close();
    expect(authorize(store.current(), erp, 'verify', undefined)).toBeUndefined();
  });
});
