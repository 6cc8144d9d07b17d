import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificatePublicKeyInfo, derToPem, describeCertificate, pemToDer } from '../../src/crypto/certificate.ts';
import { issueEndEntityCertificate } from '../../src/crypto/dev-ca.ts';
import { readSealObjectsWith, writeCertificateChain } from '../../src/pool/token-objects.ts';
import { createPadesCms } from '../../src/crypto/cms.ts';
import { SignatureActivation, TokenPool } from '../../src/pool/pool.ts';
import { moduleLeases } from '../../src/pool/module-registry.ts';
import { loadConfig } from '../../src/config/config.ts';
import { prepareSealImage } from '../../src/pdf/image.ts';
import { ensureEmbeddedDefaults } from '../../src/provision/embedded.ts';
import { openssl } from '../crypto/openssl.ts';
import { connect, listSeals, type SealClient } from '../../src/cli/client.ts';
import { startServe, type ServeProcess } from '../deploy/serve-process.ts';
import { capturedLogger } from '../pool/softhsm.ts';

/** Every file under dir (token store excluded) → its bytes, to prove a second start changes nothing. */
async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    out.set(relative(dir, file), await readFile(file));
  }
  return out;
}

/** SoftHSM rewrites its token.object (token flags and state) on every login; the key objects must not change. */
function isTokenState(name: string): boolean {
  return name.startsWith('tokens/') && name.endsWith('/token.object');
}

describe('embedded defaults', () => {
  let root: string;
  let dataDir: string;
  let configPath: string;
  const log = capturedLogger();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'seald-defaults-'));
    dataDir = join(root, '.seald');
    ({ configPath } = await ensureEmbeddedDefaults(dataDir, log.logger));
  });

  afterAll(() => rm(root, { recursive: true, force: true }));

  const module = (): string => (parse(readFileSync(configPath, 'utf8')) as { pkcs11: { module: string } }).pkcs11.module;
  const pin = (): string => readFileSync(join(dataDir, 'token.pin'), 'utf8').trim();
  const softhsmEnv = () => ({ env: { SOFTHSM2_CONF: join(dataDir, 'softhsm2.conf') } });
  /** What the server reads for a seal: the objects next to its key on the demo token. */
  const tokenObjects = (key: string) => readSealObjectsWith(module(), 'seald-demo', pin(), key, softhsmEnv());
  const devCa = async () => ({
    certificate: pemToDer(await readFile(join(dataDir, 'ca/dev-ca.pem'), 'utf8'))[0]!,
    privateKeyPkcs8: new Uint8Array(createPrivateKey(await readFile(join(dataDir, 'ca/dev-ca.key.pem'), 'utf8')).export({ type: 'pkcs8', format: 'der' })),
  });

  it('writes the configuration, token store, PINs, CA, chains and images', async () => {
    expect(configPath).toBe(join(dataDir, 'seald.yaml'));
    for (const file of ['seald.yaml', 'softhsm2.conf', 'token.pin', 'so.pin', 'ca/dev-ca.pem', 'ca/dev-ca.key.pem', 'seals/org.chain.pem', 'seals/personal.chain.pem', 'seals/org.svg', 'seals/personal.svg', 'seals/legal-rep.svg']) {
      expect((await stat(join(dataDir, file))).isFile(), file).toBe(true);
    }
    for (const secret of ['token.pin', 'so.pin', 'ca/dev-ca.key.pem']) {
      expect((await stat(join(dataDir, secret))).mode & 0o777, secret).toBe(0o600);
    }
    expect((await readdir(join(dataDir, 'tokens'))).length).toBeGreaterThan(0);
    // The demo seals are vector drawings seald reads back as paths (src/pdf/svg-seal.ts): the seal as drawn, not a pixel image.
    const svg = await readFile(join(dataDir, 'seals/org.svg'));
    expect(prepareSealImage(svg)).toMatchObject({ kind: 'vector', width: 2000, height: 2000 });
    const yamlText = await readFile(configPath, 'utf8');
    expect(yamlText.startsWith('# seald configuration (generated embedded defaults; edit freely)')).toBe(true);
    const yaml = parse(yamlText) as Record<string, any>;
    expect(yaml.pkcs11).toEqual({
      module: expect.stringMatching(/libsofthsm2\.so$/),
      env: { SOFTHSM2_CONF: 'softhsm2.conf' },
      tokens: [{ label: 'seald-demo', pin: { file: 'token.pin' } }],
    });
    // Seals by token and key label only: chains and images are read from the token (seald admin write-*).
    expect(yaml.seals).toEqual([
      { id: 'org', kind: 'official', name: '示例商贸有限公司', key: 'org', size_mm: 42 },
      { id: 'personal', kind: 'personal', name: '张三', key: 'personal', size_mm: 20 },
      { id: 'legal-rep', kind: 'legal_representative', name: '张三（法定代表人）', key: 'legal-rep', size_mm: 20, activation: 'required' },
    ]);
    expect(yaml.trust).toEqual({ anchors: ['ca/dev-ca.pem'] });
    expect(log.lines.join('')).not.toContain((await readFile(join(dataDir, 'token.pin'), 'utf8')).trim());
    expect(moduleLeases(yaml.pkcs11.module)).toBe(0);
  });

  it('issues certificates that chain to the dev CA, with the requested subjects and validity', async () => {
    const caPath = join(dataDir, 'ca/dev-ca.pem');
    for (const [seal, subject, algorithm] of [
      ['org', 'CN=示例商贸有限公司 电子印章,O=示例商贸有限公司,C=CN', 'RSASSA-PKCS1-v1_5'],
      ['personal', 'CN=张三,O=示例商贸有限公司,C=CN', 'ECDSA'],
    ] as const) {
      // The chain on the token (where the server reads it), checked by openssl; the copy in seals/ is the same.
      const chainPath = join(root, `${seal}.token-chain.pem`);
      const onToken = tokenObjects(seal);
      await writeFile(chainPath, onToken.chain.map((der) => derToPem(der)).join(''));
      expect(await readFile(chainPath, 'utf8')).toBe(await readFile(join(dataDir, `seals/${seal}.chain.pem`), 'utf8'));
      const verified = await openssl(['verify', '-CAfile', caPath, chainPath]);
      expect(verified.stdout.trim()).toBe(`${chainPath}: OK`);
      const [signer, issuer] = onToken.chain;
      expect(Buffer.from(issuer!).equals(Buffer.from(pemToDer(await readFile(caPath, 'utf8'))[0]!))).toBe(true);
      const d = describeCertificate(signer!);
      expect(d.subject).toBe(subject);
      expect(d.issuer).toBe('CN=seald Development CA,O=seald demo,C=CN');
      expect(d.keyAlgorithm).toBe(algorithm);
      const days = (d.notAfter.getTime() - d.notBefore.getTime()) / 86_400_000;
      expect(days).toBeGreaterThan(2 * 365);
      expect(d.notBefore.getTime()).toBeLessThan(Date.now() - 23 * 3_600_000);
    }
  });

  it('loads with the server config loader, and a TokenPool in the same process signs with every key (legal-rep with its PIN)', async () => {
    const config = await loadConfig({ flags: { config: configPath }, env: {}, cwd: root });
    const pool = await TokenPool.open(config.pkcs11, log.logger);
    try {
      expect(pool.status().tokens).toEqual([expect.objectContaining({ label: 'seald-demo', state: 'ready' })]);
      for (const seal of config.seals) {
        expect(pool.hasKey(seal.key)).toBe(true);
        expect(seal.certificates).toBeUndefined();
        const chain = tokenObjects(seal.key).chain;
        // The certificate's public key is the token key's.
        expect(Buffer.from(pool.publicKeyInfo(seal.key)).equals(Buffer.from(certificatePublicKeyInfo(chain[0]!)))).toBe(true);
        const data = randomBytes(1000);
        // legal-rep's key has CKA_ALWAYS_AUTHENTICATE; on SoftHSM its activation PIN is the token's user PIN.
        expect(pool.requiresActivation(seal.key)).toBe(seal.activation === 'required');
        const tokenSigner = pool.signer(seal.key, chain);
        const signer =
          seal.activation === 'required'
            ? tokenSigner.activated(new SignatureActivation(Buffer.from((await readFile(join(dataDir, 'token.pin'), 'utf8')).trim())))
            : tokenSigner;
        const cms = await createPadesCms({ signer, documentDigest: createHash('sha256').update(data).digest() });
        await writeFile(join(root, 'data.bin'), data);
        await writeFile(join(root, 'sig.p7s'), cms);
        const result = await openssl([
          'cms', '-verify', '-binary', '-inform', 'DER', '-in', join(root, 'sig.p7s'), '-content', join(root, 'data.bin'),
          '-CAfile', config.trust.anchors[0]!, '-purpose', 'any', '-out', '/dev/null',
        ]);
        expect(result.stderr, seal.id).toContain('Verification successful');
      }
    } finally {
      await pool.close();
    }
  });

  it('a second call changes nothing: same keys, same certificates, same bytes everywhere', async () => {
    const before = await snapshot(dataDir);
    const again = await ensureEmbeddedDefaults(dataDir, log.logger);
    expect(again.configPath).toBe(configPath);
    const after = await snapshot(dataDir);
    // Same files (no new key objects on the token), and the same bytes in each (keys, PINs, CA, certificates, images).
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [name, bytes] of before) if (!isTokenState(name)) expect(after.get(name)!.equals(bytes), name).toBe(true);
    expect([...before.keys()].filter((name) => name.startsWith('tokens/') && !isTokenState(name)).length).toBeGreaterThanOrEqual(4);
  });

  it('the token is the truth: the seals/ copies are not needed; a chain that no longer fits is issued again, for the same key', async () => {
    const personalChain = tokenObjects('personal').chain;
    const oldSpki = certificatePublicKeyInfo(tokenObjects('org').chain[0]!);
    // The copies gone: nothing is issued or written again.
    await rm(join(dataDir, 'seals'), { recursive: true });
    log.lines.length = 0;
    await ensureEmbeddedDefaults(dataDir, log.logger);
    expect(log.lines.join('')).not.toContain('issued seal certificate');
    // An expired certificate for the org key, written where the server reads it: re-issued at the next start.
    const ca = await devCa();
    const day = 86_400_000;
    const expired = await issueEndEntityCertificate({ ca, subjectPublicKeyInfo: oldSpki, subject: { commonName: 'expired' }, validity: { notBefore: new Date(Date.now() - 2 * day), notAfter: new Date(Date.now() - day) } });
    writeCertificateChain(module(), 'seald-demo', pin(), 'org', [expired, ca.certificate], softhsmEnv());
    await ensureEmbeddedDefaults(dataDir, log.logger);
    expect(log.lines.join('')).toContain('"reason":"expired"');
    const renewed = tokenObjects('org').chain;
    expect(describeCertificate(renewed[0]!).notAfter.getTime()).toBeGreaterThan(Date.now() + 365 * day);
    expect(Buffer.from(certificatePublicKeyInfo(renewed[0]!)).equals(Buffer.from(oldSpki))).toBe(true);
    expect(tokenObjects('personal').chain.map((c) => Buffer.from(c).toString('hex'))).toEqual(personalChain.map((c) => Buffer.from(c).toString('hex')));
  });

  it('says how to install SoftHSM2 when it is missing', async () => {
    const error = await ensureEmbeddedDefaults(join(root, 'other'), log.logger, {
      moduleCandidates: ['/nonexistent/libsofthsm2.so'],
      allowInstall: false,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ category: 'unavailable', code: 'SOFTHSM_MISSING' });
    expect((error as Error).message).toContain('sudo apt-get install softhsm2');
  });
});

describe('a fresh data dir served: the seals come from the token', () => {
  let root: string;
  let server: ServeProcess | undefined;
  let client: SealClient | undefined;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'seald-defaults-served-'));
  });
  afterAll(async () => {
    client?.close();
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('ListSeals shows every seal with its image and chain read from the token (no seal files in the config)', async () => {
    const dataDir = join(root, 'data');
    server = await startServe(['--data-dir', dataDir]);
    // The copies in seals/ play no part: gone before the first call.
    await rm(join(dataDir, 'seals'), { recursive: true });
    client = connect(server.address);
    const { seals } = await listSeals(client);
    expect(seals.map((s) => s.id)).toEqual(['org', 'personal', 'legal-rep']);
    const anchor = pemToDer(await readFile(join(dataDir, 'ca/dev-ca.pem'), 'utf8'))[0]!;
    for (const seal of seals) {
      expect(seal.materialSource, seal.id).toBe('token');
      expect(Buffer.from(seal.imageSvg).toString('utf8'), seal.id).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
      expect(seal.certificateChain, seal.id).toHaveLength(2);
      expect(Buffer.from(seal.certificateChain[1]!).equals(Buffer.from(anchor)), seal.id).toBe(true);
      expect(describeCertificate(seal.certificateChain[0]!).serialNumber).toBe(seal.certificate!.serialNumber);
      expect(seal.available, seal.id).toBe(true);
    }
    expect(seals.find((s) => s.id === 'legal-rep')!.activationRequired).toBe(true);
  }, 120_000);
});
