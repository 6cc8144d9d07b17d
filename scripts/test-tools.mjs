// The Debian tools the test suite runs, and `npm test`'s check for them (the `pretest` script; .ci/run calls it too).
//
// The tests trust independent implementations over seald's own code (qpdf, poppler, openssl, NSS, SoftHSM), so on a
// machine without them most tests fail far from the cause. This list is the one place that names them: each entry is a
// Debian package and what the tests use of it (commands looked up on PATH, files checked by path).
// test/support/test-tools.test.ts keeps it in step with what the tests spawn.
//
// When something is missing: as root with apt-get, one `apt-get install -y` of the missing packages (the way
// `npm start` installs SoftHSM, src/server/defaults/embedded.ts); otherwise one line saying what to run, and exit 1
// before vitest starts. When everything is there it only stats a few paths: no apt call, a few milliseconds.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export const TEST_TOOLS = [
  // The tokens every signing test uses: the admin tool on PATH, the module by path (test/pool/softhsm.ts). softhsm2
  // depends on libsofthsm2, which ships the module.
  { package: 'softhsm2', commands: ['softhsm2-util'], files: [] },
  { package: 'libsofthsm2', commands: [], files: ['/usr/lib/softhsm/libsofthsm2.so'] },
  // The second, remote PKCS#11 path of the pool tests: SoftHSM behind `p11-kit server`, reached through p11-kit's
  // client module (test/pool/p11-kit-remote.ts, pkcs11-paths.ts).
  { package: 'p11-kit', commands: ['p11-kit'], files: [] },
  { package: 'p11-kit-modules', commands: [], files: ['/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so'] },
  // OpenSC's pkcs11-spy, in front of SoftHSM, writes down every call that reaches the library from the module's thread
  // (test/pool/module-registry.test.ts: C_Initialize's flags).
  { package: 'opensc-pkcs11', commands: [], files: ['/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so'] },
  { package: 'poppler-utils', commands: ['pdfsig', 'pdfinfo', 'pdftotext', 'pdftoppm', 'pdffonts'], files: [] },
  // pdftotext reads non-embedded CJK fonts only through poppler-data's CMaps (the keyword finder is checked with it).
  { package: 'poppler-data', commands: [], files: ['/usr/share/poppler/cMap'] },
  { package: 'qpdf', commands: ['qpdf'], files: [] },
  { package: 'openssl', commands: ['openssl'], files: [] },
  { package: 'libnss3-tools', commands: ['certutil', 'pk12util'], files: [] },
  // The CJK fixtures embed this font (test/fixtures/cjk-contract.ts).
  { package: 'fonts-wqy-zenhei', commands: [], files: ['/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc'] },
  // The committed glyph outlines (src/pdf/glyph-outlines.ts) are Noto Sans CJK SC's: test/provision/seal-image.test.ts
  // compares them with the font and renders the seals against it.
  { package: 'fonts-noto-cjk', commands: [], files: ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc'] },
  // A font without CJK glyphs: a seal image asked of it is refused by name (test/provision/seal-image.test.ts).
  { package: 'fonts-dejavu-core', commands: [], files: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'] },
  // The verification report for people is checked in a real browser: headless Chromium renders it to PNG and dumps its
  // DOM (test/report/browser.test.ts); `seald verify --pdf` prints with it too (src/report/print-pdf.ts).
  { package: 'chromium', commands: ['chromium'], files: [] },
  // The alert rules are checked and unit-tested with Prometheus's own tool (test/deploy/prometheus-rules.test.ts), and
  // the server scrapes a live seald to evaluate the Grafana dashboard's queries.
  { package: 'prometheus', commands: ['promtool', 'prometheus'], files: [] },
  // ps lists the pdftoppm processes a cancelled render must not leave behind (test/report/render-abort.test.ts).
  { package: 'procps', commands: ['ps'], files: [] },
  // Essential packages, present on every Debian system: listed so that the list names every program a test runs.
  { package: 'coreutils', commands: ['mv'], files: [] },
  { package: 'bsdutils', commands: ['script'], files: [] },
  { package: 'util-linux', commands: ['setpriv'], files: [] },
  { package: 'dpkg', commands: ['dpkg'], files: [] },
];

/** Is `command` an executable file in one of PATH's directories? */
export function onPath(command, pathVariable = process.env.PATH ?? '') {
  return pathVariable.split(path.delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The entries of `tools` with a command or file missing on this machine, each with what is missing. */
export function missingTools(tools = TEST_TOOLS, pathVariable = process.env.PATH ?? '') {
  return tools
    .map((tool) => ({
      package: tool.package,
      missing: [
        ...tool.commands.filter((command) => !onPath(command, pathVariable)),
        ...tool.files.filter((file) => !fs.existsSync(file)),
      ],
    }))
    .filter((tool) => tool.missing.length > 0);
}

/**
 * What to do about `missing`: nothing, install (the apt-get commands to run), or stop (the line to print). Kept apart
 * from running anything, so a test can ask what would happen as root without an apt-get call.
 */
export function planTestTools(missing, { isRoot, hasAptGet }) {
  if (missing.length === 0) return { action: 'none' };
  const packages = missing.map((tool) => tool.package);
  if (isRoot && hasAptGet) {
    // update first: a fresh image (or a long-idle machine) has no or stale package lists, and install then fails.
    return { action: 'install', packages, commands: [['apt-get', 'update'], ['apt-get', 'install', '-y', ...packages]] };
  }
  const what = missing.flatMap((tool) => tool.missing).join(', ');
  return {
    action: 'stop',
    packages,
    message: `npm test needs ${what}: run \`sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}\``,
  };
}

/** Check, install if allowed, check again. Returns the exit status for `npm test`'s pretest. */
export function ensureTestTools() {
  const plan = planTestTools(missingTools(), { isRoot: process.getuid?.() === 0, hasAptGet: onPath('apt-get') });
  if (plan.action === 'none') return 0;
  if (plan.action === 'stop') {
    console.error(plan.message);
    return 1;
  }
  console.error(`test tools: installing ${plan.packages.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const [command, ...args] of plan.commands) {
    const result = spawnSync(command, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status === 0) continue;
    console.error(`test tools: \`${command} ${args.join(' ')}\` failed (${result.error?.message ?? `exit ${result.status}`})`);
    // A failed update (offline, a broken mirror) leaves the old lists, from which the install may still succeed.
    if (args[0] !== 'update') return 1;
  }
  const still = missingTools();
  if (still.length === 0) return 0;
  console.error(`test tools: still missing after apt-get: ${still.flatMap((tool) => tool.missing).join(', ')}`);
  return 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = ensureTestTools();
}
