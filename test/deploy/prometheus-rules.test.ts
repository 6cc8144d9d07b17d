/**
 * The alert rules checked by Prometheus's own tool: `promtool check rules` on deploy/observability/prometheus-rules.yaml
 * and `promtool test rules` on its unit tests (prometheus-rules.test.yaml: the seal certificate alert fires with 30
 * days left, not with 31). A copy whose threshold is moved to 31 days must fail those unit tests: they can fail.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../support/run.ts';

const OBSERVABILITY = fileURLToPath(new URL('../../deploy/observability/', import.meta.url));
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-promtool-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('alert rules under promtool', () => {
  it('promtool check rules: every rule is valid', async () => {
    const result = await run('promtool', ['check', 'rules', 'prometheus-rules.yaml'], { cwd: OBSERVABILITY });
    expect(result.stderr).toBe('');
    expect(result.stdout.toString()).toMatch(/SUCCESS: \d+ rules found/);
    expect(result.code).toBe(0);
  });

  it('promtool test rules: the seal certificate alert fires at 30 days left, not at 31, and at expiry', async () => {
    const result = await run('promtool', ['test', 'rules', 'prometheus-rules.test.yaml'], { cwd: OBSERVABILITY });
    expect(result.stdout.toString() + result.stderr).toMatch(/SUCCESS/);
    expect(result.code).toBe(0);
  });

  it('the unit tests fail for a rule that fires at 31 days', async () => {
    const rules = fs.readFileSync(path.join(OBSERVABILITY, 'prometheus-rules.yaml'), 'utf8');
    expect(rules).toContain('- time() <= 30 * 86400');
    fs.writeFileSync(path.join(scratch, 'prometheus-rules.yaml'), rules.replace('- time() <= 30 * 86400', '- time() <= 31 * 86400'));
    fs.copyFileSync(path.join(OBSERVABILITY, 'prometheus-rules.test.yaml'), path.join(scratch, 'prometheus-rules.test.yaml'));
    const result = await run('promtool', ['test', 'rules', 'prometheus-rules.test.yaml'], { cwd: scratch });
    expect(result.code).not.toBe(0);
    expect(result.stdout.toString() + result.stderr).toMatch(/FAILED[\s\S]*SealdSealCertificateExpiresSoon, time: 9d/);
  });
});
