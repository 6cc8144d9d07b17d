/** The `verify` section of the configuration: the Verify RPC's default strict mode and visual check (docs/verify.md). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-verify-config-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const BASE = `
pkcs11:
  module: /usr/lib/softhsm/libsofthsm2.so
  tokens:
    - label: seald-demo
      pin: { file: token.pin }
seals:
  - { id: org, kind: organization, name: Org, key: org, certificates: org.pem, image: org.png, size_mm: 42 }
`;

function load(extra: string, env: NodeJS.ProcessEnv = {}) {
  const file = path.join(dir, 'seald.yaml');
  fs.writeFileSync(file, `${BASE}${extra}`);
  return loadConfig({ flags: { config: file }, env, cwd: '/work' });
}

describe('verify settings', () => {
  it('lenient by default; verify.strict in the file; SEALD_VERIFY_STRICT overrides it', async () => {
    expect((await load('')).verify.strict).toBe(false);
    expect((await load('verify: { strict: true }\n')).verify.strict).toBe(true);
    expect((await load('verify: { strict: true }\n', { SEALD_VERIFY_STRICT: 'false' })).verify.strict).toBe(false);
    expect((await load('', { SEALD_VERIFY_STRICT: 'true' })).verify.strict).toBe(true);
  });

  it('the visual check: on by default with the engine budgets; off in the file or by SEALD_VERIFY_VISUAL_CHECK', async () => {
    expect((await load('')).verify).toEqual({ strict: false, visual: { enabled: true } });
    expect((await load('verify: { visual_check: false, visual_budget_ms: 2500, visual_max_pages: 3 }\n')).verify.visual).toEqual({ enabled: false, budgetMs: 2500, maxPages: 3 });
    expect((await load('verify: { visual_check: true }\n', { SEALD_VERIFY_VISUAL_CHECK: 'false' })).verify.visual).toEqual({ enabled: false });
    await expect(load('verify: { visual_check: sometimes }\n')).rejects.toThrow(/verify\.visual_check.*true or false/);
    await expect(load('verify: { visual_budget_ms: 0 }\n')).rejects.toThrow(/verify\.visual_budget_ms.*positive integer/);
    await expect(load('verify: { visual_max_pages: -2 }\n')).rejects.toThrow(/verify\.visual_max_pages.*positive integer/);
  });

  it('refuses anything but true or false, and unknown keys', async () => {
    await expect(load('verify: { strict: maybe }\n')).rejects.toThrow(/verify\.strict.*true or false/);
    await expect(load('verify: { lenient: true }\n')).rejects.toThrow(/verify\.lenient.*unknown setting/);
  });
});
