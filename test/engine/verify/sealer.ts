/**
 * Real seals for the verifier's tests: the embedded defaults (SoftHSM token, dev CA, `org` and `personal` seals)
 * provisioned in a temp data dir, sealing through engine.sealDocument as the server does.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pino } from 'pino';
import { pemToDer } from '../../../src/crypto/certificate.ts';
import { sealDocument } from '../../../src/engine/seal.ts';
import type { Placement } from '../../../src/engine/placements.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import { TokenPool } from '../../../src/pool/pool.ts';
import { loadServerConfig } from '../../../src/provision/load-config.ts';
import type { SealdConfig } from '../../../src/config/config.ts';
import { loadSeals, type ConfiguredSeal } from '../../../src/server/seals.ts';

export interface Sealer {
  dataDir: string;
  config: SealdConfig;
  /** The dev CA (PEM file) and its DER: the default trust anchor. */
  caPem: string;
  anchors: Uint8Array[];
  seal(input: Uint8Array, sealId: 'org' | 'personal', placement: Placement, fieldName?: string): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openSealer(prefix = 'seald-verify-'): Promise<Sealer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const logger = pino({ level: 'silent' });
  const config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
  const pool = await TokenPool.open(config.pkcs11, logger);
  let seals: Map<string, ConfiguredSeal>;
  try {
    seals = await loadSeals(config.seals, pool, logger);
  } catch (error) {
    await pool.close();
    throw error;
  }
  const caPem = config.trust.anchors[0]!;
  return {
    dataDir,
    config,
    caPem,
    anchors: pemToDer(fs.readFileSync(caPem, 'utf8')),
    async seal(input, sealId, placement, fieldName) {
      const out = await sealDocument(bufferSource(input), seals.get(sealId)!.material, placement, fieldName ? { fieldName } : {});
      return Buffer.concat([input, out.appended]);
    },
    async close() {
      await pool.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
