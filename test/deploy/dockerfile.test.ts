/**
 * deploy/Dockerfile without a container engine: linted (dockerfile-utils, the Dockerfile validator of the VS Code
 * Docker language server; hadolint is in neither the Debian nor the npm registry), and read with dockerfile-ast to
 * check what seald needs of it: the stages, a non-root user, ports and SEALD_* variables that seald reads, a
 * HEALTHCHECK that really answers (run here against a live server), a build context that carries every file the
 * image copies, and runtime dependencies that are all in package.json's `dependencies` (the image omits dev ones).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DockerfileParser, type Copy, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, ENVIRONMENT_VARIABLES } from '../../src/config/config.ts';
import { startHarness, type Harness } from '../server/harness.ts';
import { run } from '../support/run.ts';
import { BIN } from './serve-process.ts';
import { serverNodeFlags } from '../../bench/seald-server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TEXT = fs.readFileSync(path.join(ROOT, 'deploy/Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(TEXT);
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
};

interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** The build stages in order, each with its own instructions. */
function stages(): Stage[] {
  const out: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const [from, as, name] = instruction.getArguments().map((a) => a.getValue());
      expect(as?.toUpperCase()).toBe('AS');
      out.push({ name: name!, from: from!, instructions: [] });
    } else {
      out.at(-1)?.instructions.push(instruction);
    }
  }
  return out;
}

/** Instructions that apply in `name`, its parents' first (FROM <earlier stage> inherits them). */
function effective(name: string): Instruction[] {
  const stage = stages().find((s) => s.name === name)!;
  const parent = stages().find((s) => s.name === stage.from);
  return [...(parent === undefined ? [] : effective(parent.name)), ...stage.instructions];
}

function last(name: string, keyword: string): Instruction | undefined {
  return effective(name).filter((i) => i.getKeyword() === keyword).at(-1);
}

function imageEnv(name: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of effective(name).filter((i) => i.getKeyword() === 'ENV')) {
    for (const property of (instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }).getProperties()) {
      env[property.getName()] = property.getValue() ?? '';
    }
  }
  return env;
}

function execForm(instruction: Instruction | undefined): string[] {
  const content = instruction?.getArgumentsContent() ?? '';
  return JSON.parse(content.replace(/^CMD\s+/, '')) as string[];
}

describe('deploy/Dockerfile', () => {
  it('passes the linter, which does flag broken instructions', () => {
    expect(validate(TEXT)).toEqual([]);
    const broken = TEXT.replace('USER node\nEXPOSE', 'USR node\nEXPOSE').replace('EXPOSE 50051 9464', 'EXPOSE 50051/tcpx');
    expect(validate(broken).map((d) => d.message)).toEqual(['Unknown instruction: USR', 'Invalid proto: tcpx']);
  });

  it('builds on the Node LTS line seald supports, with the production image as the default target', () => {
    const major = /(\d+)/.exec(manifest.engines.node)![1];
    expect(dockerfile.getARGs().map((a) => `${a.getProperty()!.getName()}=${a.getProperty()!.getValue()}`)).toContain(`NODE_VERSION=${major}`);
    expect(stages().map((s) => [s.name, s.from])).toEqual([
      ['build', 'node:${NODE_VERSION}-bookworm-slim'],
      ['runtime', 'node:${NODE_VERSION}-bookworm-slim'],
      ['demo', 'runtime'],
      ['production', 'runtime'],
    ]);
    // SoftHSM2 only in the demo.
    const installs = (name: string) => effective(name).filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent()).join('\n');
    expect(installs('demo')).toMatch(/apt-get install[^\n]*\bsofthsm2\b/);
    expect(installs('production')).not.toMatch(/softhsm/);
  });

  it.each(['runtime', 'demo', 'production'])('%s runs as a non-root user', (name) => {
    const user = last(name, 'USER')?.getArgumentsContent();
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user!.split(':')[0]);
  });

  it('exposes the ports seald listens on and sets only variables seald reads', () => {
    const env = imageEnv('production');
    for (const name of Object.keys(env).filter((n) => n.startsWith('SEALD_'))) expect(Object.keys(ENVIRONMENT_VARIABLES)).toContain(name);
    const portOf = (address: string) => Number(address.split(':').pop());
    // The image keeps seald's default ports, on every interface instead of loopback.
    expect(env.SEALD_LISTEN).toBe(`0.0.0.0:${portOf(DEFAULTS.listen)}`);
    expect(env.SEALD_METRICS).toBe(`0.0.0.0:${portOf(DEFAULTS.metrics)}`);
    const exposed = effective('production').filter((i) => i.getKeyword() === 'EXPOSE').flatMap((i) => i.getArguments().map((a) => Number(a.getValue())));
    expect(exposed.sort()).toEqual([portOf(DEFAULTS.listen), portOf(DEFAULTS.metrics)].sort());
    // The image runs the server with the node flags of `npm start`, which the bench reads and measures with.
    expect(serverNodeFlags(ROOT)).toEqual(['--max-semi-space-size=4']);
    expect(execForm(last('production', 'ENTRYPOINT'))).toEqual(['node', ...serverNodeFlags(ROOT), '/app/bin/seald.mjs']);
    expect(execForm(last('production', 'CMD'))).toEqual(['serve']);
  });

  it('copies only files the build context (.dockerignore) lets through', () => {
    const ignore = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    const included = (file: string): boolean => {
      let keep = true;
      for (const pattern of ignore) {
        const negated = pattern.startsWith('!');
        const glob = (negated ? pattern.slice(1) : pattern).replace(/\/$/, '');
        const parts = file.split('/');
        // A pattern matches the path or one of its parent directories.
        if (parts.some((_, i) => path.matchesGlob(parts.slice(0, i + 1).join('/'), glob))) keep = negated;
      }
      return keep;
    };
    const sources = dockerfile
      .getCOPYs()
      .filter((copy) => copy.getFromFlag() === null)
      .flatMap((copy) => copy.getArguments().slice(0, -1).map((a) => a.getValue()));
    expect(sources).toEqual([
      ...['package.json', 'package-lock.json', 'scripts/build.mjs', 'bin/build-info.mjs', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'src'],
      ...['package.json', 'bin'],
    ]);
    for (const source of sources) {
      expect(fs.existsSync(path.join(ROOT, source)), source).toBe(true);
      expect(included(source), source).toBe(true);
    }
    expect(included('node_modules/pino/package.json')).toBe(false);
    expect(included('test/.cache/fixtures')).toBe(false);
    expect(included('src/cli/main.ts')).toBe(true);
  });

  it('installs exactly the lock file it copies: npm ci, never npm install', () => {
    const runs = effective('build').filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent()).join('\n');
    expect(runs).toMatch(/\bnpm ci\b/);
    // npm install may resolve other versions than the lock file's, and rewrite it.
    expect(runs).not.toMatch(/\bnpm (install|i|add)\b/);
  });

  it('runs the compiled build: dist/ made in the build stage, no TypeScript sources in the image', () => {
    const runs = (name: string) => effective(name).filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent()).join('\n');
    expect(runs('build')).toMatch(/npm run build[\s\\]*&& npm prune --omit=dev/);
    const copies = (name: string) =>
      effective(name)
        .filter((i): i is Copy => i.getKeyword() === 'COPY')
        .map((i) => [i.getFromFlag()?.getValue() ?? '', i.getArgumentsContent()].join(' ').trim());
    expect(copies('production')).toContain('build /app/dist ./dist');
    expect(copies('production').filter((c) => /\bsrc\b/.test(c))).toEqual([]);
  });

  it('needs at run time only packages from `dependencies` (the image installs with --omit=dev)', () => {
    const files = [BIN, ...fs.readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(ROOT, 'src', f))];
    const packages = new Set<string>();
    for (const file of files) {
      for (const [, specifier] of fs.readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'([^'.][^']*)'/g)) {
        if (specifier!.startsWith('node:')) continue;
        const parts = specifier!.split('/');
        packages.add(specifier!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
    expect(packages.size).toBeGreaterThan(5);
    for (const name of packages) expect(Object.keys(manifest.dependencies), name).toContain(name);
  });
});

describe('the HEALTHCHECK command', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  /** The image's HEALTHCHECK, run from this checkout and pointed at the harness server instead of :50051. */
  async function healthcheck(): Promise<{ code: number; stdout: string }> {
    const command = execForm(dockerfile.getHEALTHCHECKs()[0]);
    expect(command.slice(0, 2)).toEqual(['node', '/app/bin/seald.mjs']);
    const args = command.slice(2).map((arg) => (arg === `127.0.0.1:${DEFAULTS.listen.split(':')[1]}` ? h.server.address : arg));
    expect(args).toContain(h.server.address);
    const result = await run(process.execPath, [BIN, ...args]);
    return { code: result.code, stdout: result.stdout.toString() };
  }

  it('exits 0 when the server is SERVING and 1 when its seals are not ready', async () => {
    expect(await healthcheck()).toEqual({ code: 0, stdout: 'SERVING\n' });
    h.available.clear();
    while (h.server.health.status !== 'NOT_SERVING') await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await healthcheck()).toEqual({ code: 1, stdout: 'NOT_SERVING\n' });
  });
});
