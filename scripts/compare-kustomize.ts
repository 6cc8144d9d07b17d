/**
 * Compare test/deploy/kustomize.ts (the renderer CI uses, having no kustomize) with the real `kubectl kustomize` on
 * every overlay under deploy/k8s/overlays, resource by resource:
 *   npx tsx scripts/compare-kustomize.ts      (needs kubectl on PATH; exit 1 on any difference)
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { renderKustomization, type Manifest } from '../test/deploy/kustomize.ts';

const OVERLAYS = 'deploy/k8s/overlays';
const key = (m: Manifest): string => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
let differences = 0;
for (const overlay of fs.readdirSync(OVERLAYS)) {
  const dir = `${OVERLAYS}/${overlay}`;
  const kubectl = parseAllDocuments(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).map(
    (document) => document.toJS() as Manifest,
  );
  const ours = new Map(renderKustomization(dir).map((m) => [key(m), m]));
  for (const manifest of kubectl) {
    const same = isDeepStrictEqual(manifest, ours.get(key(manifest)));
    if (!same) differences++;
    console.log(`${overlay}: ${key(manifest)} ${same ? 'same' : 'DIFFERENT'}`);
    ours.delete(key(manifest));
  }
  for (const extra of ours.keys()) {
    differences++;
    console.log(`${overlay}: ${extra} only in our rendering`);
  }
}
process.exitCode = differences === 0 ? 0 : 1;
