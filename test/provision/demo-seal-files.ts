/**
 * The embedded demo's seal material as files, for tests that build an engine seal without the server. The generated
 * configuration names seals by token and key label only (their chains and images live on the token); provisioning
 * also leaves copies in <data dir>/seals/, which these paths name when the configuration gives no file.
 */
import * as path from 'node:path';
import type { SealConfig, SealdConfig } from '../../src/config/config.ts';

export function sealFiles(config: SealdConfig, seal: SealConfig): { certificates: string; image: string } {
  const copies = path.join(path.dirname(config.configPath), 'seals');
  return {
    certificates: seal.certificates ?? path.join(copies, `${seal.id}.chain.pem`),
    image: seal.image ?? path.join(copies, `${seal.id}.svg`),
  };
}
