/**
 * The configuration a server runs on: the file, environment and flags (src/config), with the embedded defaults
 * provisioned in the data directory when no configuration file is given. Tests that build seals use it too, so
 * they need neither the server nor a hand-written configuration.
 */
import type { Logger } from 'pino';
import { loadConfig, type ConfigFlags, type SealdConfig } from '../config/config.ts';

/** Flags > SEALD_* environment > file > defaults; with no file named, the embedded defaults in the data dir. */
export function loadServerConfig(
  flags: ConfigFlags,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SealdConfig> {
  return loadConfig({
    flags,
    env,
    // Loaded only when needed: a configured production server never runs the demo provisioning code.
    provisionDefaults: async (dataDir, listen) => {
      const { ensureEmbeddedDefaults } = await import('./embedded.ts');
      const names = (env.SEALD_TLS_SERVER_NAMES ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
      return ensureEmbeddedDefaults(dataDir, logger, { listen, tlsServerNames: names });
    },
  });
}
