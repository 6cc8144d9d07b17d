import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig, parseByteSize } from '../../src/config/config.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-config-test-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The embedded-defaults shape (see src/provision/embedded.ts), plus whatever a test adds. */
const BASE = `
pkcs11:
  module: /usr/lib/softhsm/libsofthsm2.so
  env: { SOFTHSM2_CONF: softhsm2.conf, OTHER: plain-value }
  tokens:
    - label: seald-demo
      pin: { file: token.pin }
seals:
  - { id: org, kind: organization, name: 示例商贸有限公司, key: org, certificates: seals/org.chain.pem, image: seals/org.png, size_mm: 42 }
  - { id: personal, kind: personal, name: 张三, key: personal, certificates: seals/personal.chain.pem, image: seals/personal.png, size_mm: 20 }
trust:
  anchors: [ca/dev-ca.pem]
`;

function writeConfig(text: string, name = 'seald.yaml'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  fs.writeFileSync(path.join(dir, 'softhsm2.conf'), '');
  return file;
}

describe('loadConfig', () => {
  it('reads the embedded-defaults shape with defaults for everything else', async () => {
    const configPath = writeConfig(BASE);
    const config = await loadConfig({ flags: { config: configPath }, env: {}, cwd: '/somewhere' });
    expect(config.configPath).toBe(configPath);
    expect(config.listen).toBe(DEFAULTS.listen);
    expect(config.metrics).toBe(DEFAULTS.metrics);
    expect(config.dataDir).toBe('/somewhere/.seald');
    expect(config.log.level).toBe('info');
    expect(config.limits).toEqual({
      maxDocumentBytes: 256 * 1024 * 1024,
      spoolMemoryBytes: 8 * 1024 * 1024,
      tmpDir: '/somewhere/.seald/spool',
      drainSeconds: 30,
    });
    expect(config.pkcs11.module).toBe('/usr/lib/softhsm/libsofthsm2.so');
    // A relative env value naming a file next to the config becomes absolute; other values stay as they are.
    expect(config.pkcs11.env).toEqual({ SOFTHSM2_CONF: path.join(dir, 'softhsm2.conf'), OTHER: 'plain-value' });
    expect(config.pkcs11.tokens).toEqual([{ label: 'seald-demo', pin: { file: path.join(dir, 'token.pin') } }]);
    expect(config.seals[0]).toEqual({
      id: 'org',
      kind: 'official',
      name: '示例商贸有限公司',
      key: 'org',
      certificates: path.join(dir, 'seals/org.chain.pem'),
      image: path.join(dir, 'seals/org.png'),
      sizeMm: 42,
    });
    expect(config.seals[1]!.kind).toBe('personal');
    expect(config.trust.anchors).toEqual([path.join(dir, 'ca/dev-ca.pem')]);
  });

  it('gives every seal the top-level time_zone unless the seal names its own', async () => {
    const withZone = BASE.replace('size_mm: 20 }', 'size_mm: 20, time_zone: "+09:00" }');
    const config = await loadConfig({ flags: { config: writeConfig(`${withZone}time_zone: Asia/Shanghai\n`) }, env: {}, cwd: dir });
    expect(config.seals.map((s) => s.timeZone)).toEqual(['Asia/Shanghai', '+09:00']);
    const none = await loadConfig({ flags: { config: writeConfig(BASE, 'plain.yaml') }, env: {}, cwd: dir });
    expect(none.seals.map((s) => s.timeZone)).toEqual([undefined, undefined]);
    await expect(loadConfig({ flags: { config: writeConfig(`${BASE}time_zone: [1]\n`, 'bad.yaml') }, env: {}, cwd: dir })).rejects.toThrow(/time_zone/);
  });

  it('reads every optional setting from the file, resolving paths against the file', async () => {
    const configPath = writeConfig(`${BASE}
listen: 0.0.0.0:6000
insecure_plaintext_on_network: true
metrics: off
data_dir: data
log: { level: debug }
limits: { max_document_bytes: 64 MiB, spool_memory_bytes: 1048576, tmp_dir: spool-here, drain_seconds: 5, http2_window_bytes: 8MiB }
`);
    const config = await loadConfig({ flags: { config: configPath }, env: {}, cwd: '/elsewhere' });
    expect(config.listen).toBe('0.0.0.0:6000');
    expect(config.metrics).toBeUndefined();
    expect(config.dataDir).toBe(path.join(dir, 'data'));
    expect(config.log.level).toBe('debug');
    expect(config.limits).toEqual({
      maxDocumentBytes: 64 * 1024 * 1024,
      spoolMemoryBytes: 1024 * 1024,
      tmpDir: path.join(dir, 'spool-here'),
      drainSeconds: 5,
      http2WindowBytes: 8 * 1024 * 1024,
    });
  });

  it('precedence: flag > env > file > default', async () => {
    const configPath = writeConfig(`${BASE}
listen: 127.0.0.1:1111
metrics: 127.0.0.1:2222
limits: { max_document_bytes: 1000, drain_seconds: 7 }
log: { level: warn }
`);
    const env = {
      SEALD_LISTEN: '127.0.0.1:3333',
      SEALD_METRICS: '127.0.0.1:4444',
      SEALD_MAX_DOCUMENT_BYTES: '2MiB',
      SEALD_LOG_LEVEL: 'error',
    };
    const fromEnv = await loadConfig({ flags: { config: configPath }, env, cwd: dir });
    expect(fromEnv.listen).toBe('127.0.0.1:3333');
    expect(fromEnv.metrics).toBe('127.0.0.1:4444');
    expect(fromEnv.limits.maxDocumentBytes).toBe(2 * 1024 * 1024);
    expect(fromEnv.limits.drainSeconds).toBe(7); // file, no env
    expect(fromEnv.limits.spoolMemoryBytes).toBe(DEFAULTS.spoolMemoryBytes); // default
    expect(fromEnv.log.level).toBe('error');

    const fromFlags = await loadConfig({
      flags: { config: configPath, listen: '127.0.0.1:5555', metrics: 'off', dataDir: 'dd' },
      env: { ...env, SEALD_DATA_DIR: '/env-data' },
      cwd: '/cwd',
    });
    expect(fromFlags.listen).toBe('127.0.0.1:5555');
    expect(fromFlags.metrics).toBeUndefined();
    expect(fromFlags.dataDir).toBe('/cwd/dd');
  });

  it('overrides every scalar from the environment', async () => {
    const configPath = writeConfig(BASE);
    const config = await loadConfig({
      env: {
        SEALD_CONFIG: configPath,
        SEALD_DATA_DIR: 'data',
        SEALD_SPOOL_MEMORY_BYTES: '1k',
        SEALD_TMP_DIR: '/var/tmp/seald',
        SEALD_DRAIN_SECONDS: '2.5',
        SEALD_METRICS: '',
        SEALD_PKCS11_MODULE: '/opt/hsm/lib.so',
        SEALD_TOKEN_LABEL: 'prod',
        SEALD_TOKEN_SERIAL: 'abc123',
        SEALD_TOKEN_PIN_ENV: 'HSM_PIN',
        SEALD_TOKEN_SESSIONS: '4',
        SEALD_TRUST_ANCHORS: `/a.pem${path.delimiter}b.pem`,
      },
      cwd: '/cwd',
    });
    expect(config.configPath).toBe(configPath);
    expect(config.dataDir).toBe('/cwd/data');
    expect(config.metrics).toBeUndefined(); // explicitly empty: disabled
    expect(config.limits.spoolMemoryBytes).toBe(1024);
    expect(config.limits.tmpDir).toBe('/var/tmp/seald');
    expect(config.limits.drainSeconds).toBe(2.5);
    expect(config.pkcs11.module).toBe('/opt/hsm/lib.so');
    expect(config.pkcs11.tokens[0]).toEqual({ label: 'prod', serial: 'abc123', pin: { env: 'HSM_PIN' }, sessions: 4 });
    expect(config.trust.anchors).toEqual(['/a.pem', '/cwd/b.pem']);

    const pinFile = await loadConfig({ env: { SEALD_CONFIG: configPath, SEALD_TOKEN_PIN_FILE: 'pin.txt' }, cwd: '/cwd' });
    expect(pinFile.pkcs11.tokens[0]!.pin).toEqual({ file: '/cwd/pin.txt' });
  });

  it('provisions embedded defaults when no config file is named', async () => {
    const configPath = writeConfig(BASE);
    const asked: string[] = [];
    const config = await loadConfig({
      env: { SEALD_DATA_DIR: 'my-data' },
      cwd: '/cwd',
      provisionDefaults: async (dataDir) => {
        asked.push(dataDir);
        return { configPath };
      },
    });
    expect(asked).toEqual(['/cwd/my-data']);
    expect(config.configPath).toBe(configPath);
    expect(config.dataDir).toBe('/cwd/my-data');
    expect(config.limits.tmpDir).toBe('/cwd/my-data/spool');
  });

  it('without a file or a provisioner, says how to name one', async () => {
    await expect(loadConfig({ env: {} })).rejects.toThrow(/--config or SEALD_CONFIG/);
  });

  const invalid: [string, string, RegExp][] = [
    ['unknown top-level key', `${BASE}\nlimts: {}\n`, /limts: unknown setting/],
    ['unknown limits key', `${BASE}\nlimits: { max_doc: 1 }\n`, /limits\.max_doc: unknown setting/],
    ['bad byte size', `${BASE}\nlimits: { max_document_bytes: lots }\n`, /limits\.max_document_bytes: expected a byte size/],
    ['bad unit', `${BASE}\nlimits: { spool_memory_bytes: 5 parsecs }\n`, /limits\.spool_memory_bytes/],
    ['bad listen', `${BASE}\nlisten: localhost\n`, /listen: expected host:port/],
    ['bad log level', `${BASE}\nlog: { level: loud }\n`, /log\.level: expected one of/],
    ['bad drain', `${BASE}\nlimits: { drain_seconds: -1 }\n`, /limits\.drain_seconds/],
    ['HTTP/2 window under the protocol default', `${BASE}\nlimits: { http2_window_bytes: 1000 }\n`, /limits\.http2_window_bytes: expected 64 KiB/],
    ['HTTP/2 window over 512 MiB', `${BASE}\nlimits: { http2_window_bytes: 1GiB }\n`, /limits\.http2_window_bytes: expected 64 KiB/],
    ['missing module', BASE.replace('  module: /usr/lib/softhsm/libsofthsm2.so\n', ''), /pkcs11\.module: required/],
    ['pin with two sources', BASE.replace('pin: { file: token.pin }', 'pin: { file: a, env: B }'), /pkcs11\.tokens\[0\]\.pin: set exactly one/],
    ['seal kind', BASE.replace('kind: personal', 'kind: robot'), /seals\[1\]\.kind: expected one of official, contract, finance, invoice, legal_representative, personal .*got "robot"/],
    ['seal size', BASE.replace('size_mm: 20', 'size_mm: big'), /seals\[1\]\.size_mm/],
    ['duplicate seal', BASE.replace('id: personal', 'id: org'), /seals\[1\]\.id: duplicate seal id "org"/],
    ['missing seal key', BASE.replace(' key: org,', ''), /seals\[0\]\.key: required/],
    ['yaml syntax', `${BASE}\nlisten: [\n`, /seald\.yaml/],
  ];
  it.each(invalid)('names the bad key: %s', async (_name, text, message) => {
    const configPath = writeConfig(text);
    const error = await loadConfig({ flags: { config: configPath }, env: {} }).catch((e: unknown) => e);
    expect(error).toMatchObject({ category: 'invalid-input' });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(configPath);
  });

  it('names the bad environment variable', async () => {
    const configPath = writeConfig(BASE);
    await expect(
      loadConfig({ flags: { config: configPath }, env: { SEALD_MAX_DOCUMENT_BYTES: 'huge' } }),
    ).rejects.toThrow(/SEALD_MAX_DOCUMENT_BYTES: expected a byte size/);
    await expect(loadConfig({ flags: { config: configPath }, env: { SEALD_LISTEN: 'nope' } })).rejects.toThrow(
      /SEALD_LISTEN: expected host:port/,
    );
    await expect(
      loadConfig({ flags: { config: configPath }, env: { SEALD_TOKEN_PIN_FILE: 'a', SEALD_TOKEN_PIN_ENV: 'B' } }),
    ).rejects.toThrow(/only one of SEALD_TOKEN_PIN_FILE and SEALD_TOKEN_PIN_ENV/);
  });
});

describe('parseByteSize', () => {
  it.each([
    [1234, 1234],
    ['1234', 1234],
    ['8MiB', 8 * 1024 ** 2],
    ['8 MiB', 8 * 1024 ** 2],
    ['8M', 8 * 1024 ** 2],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['10MB', 10_000_000],
    ['64k', 65536],
  ])('%s → %d', (input, expected) => {
    expect(parseByteSize(input, 'x')).toBe(expected);
  });
  it.each([['0'], ['-1'], [''], ['1 XB'], [true]])('refuses %s', (input) => {
    expect(() => parseByteSize(input, 'x')).toThrow(/x: expected/);
  });
});
