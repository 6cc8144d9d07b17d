/**
 * The embedded defaults' organisation seal on a real SoftHSM token, for engine tests: the pool's signer, the seal
 * image, the CA that issued it (a trust anchor for pdfsig), and a cleanup.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pino } from 'pino';
import { pemToDer } from '../../src/crypto/certificate.ts';
import { prepareSealImage } from '../../src/pdf/image.ts';
import { TokenPool } from '../../src/pool/pool.ts';
import type { SealMaterial } from '../../src/engine/seal.ts';
import { loadServerConfig } from '../../src/provision/load-config.ts';
import { sealFiles } from '../provision/demo-seal-files.ts';

export interface OrgSeal {
  seal: SealMaterial;
  caPem: string;
  dir: string;
  close(): Promise<void>;
}

export async function openOrgSeal(): Promise<OrgSeal> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-placement-'));
  const logger = pino({ level: 'silent' });
  const config = await loadServerConfig({ dataDir: dir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
  const pool = await TokenPool.open(config.pkcs11, logger);
  const sealConfig = config.seals.find((s) => s.id === 'org')!;
  const chain = pemToDer(fs.readFileSync(sealFiles(config, sealConfig).certificates, 'utf8'));
  return {
    seal: {
      id: 'org',
      signer: pool.signer('org', chain),
      image: prepareSealImage(fs.readFileSync(sealFiles(config, sealConfig).image)),
      defaultWidth: 119,
      defaultHeight: 119,
    },
    caPem: config.trust.anchors[0]!,
    dir,
    async close() {
      await pool.close();
      if (!process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
