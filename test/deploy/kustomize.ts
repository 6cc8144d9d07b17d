/**
 * A renderer for the subset of kustomize that deploy/k8s uses, so CI can build the overlays without kubectl or
 * kustomize (neither is in the Debian or npm registries in a usable version: Debian's kubectl 1.20 embeds kustomize
 * 2.0, which predates `patches`). Supported: `resources` (files and directories), `namespace`, `images`, and
 * `patches` whose content is an RFC 6902 JSON patch with a kind/name `target`. Anything else in a kustomization is
 * refused, never ignored, so a manifest using a feature this file does not implement fails the test instead of
 * rendering wrong. Resources come out in the order they were listed (kustomize sorts them; compare as a set).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';

export type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

const SUPPORTED_KEYS = ['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches'];

interface Kustomization {
  resources?: string[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { path?: string; patch?: string; target?: { kind?: string; name?: string } }[];
}

export function renderKustomization(dir: string): Manifest[] {
  const file = path.join(dir, 'kustomization.yaml');
  const kustomization = parseDocument(fs.readFileSync(file, 'utf8')).toJS() as Kustomization & Record<string, unknown>;
  for (const key of Object.keys(kustomization)) {
    if (!SUPPORTED_KEYS.includes(key)) throw new Error(`${file}: "${key}" is not supported by this renderer`);
  }
  let manifests: Manifest[] = [];
  for (const entry of kustomization.resources ?? []) {
    const target = path.resolve(dir, entry);
    manifests.push(...(fs.statSync(target).isDirectory() ? renderKustomization(target) : readManifests(target)));
  }
  for (const patch of kustomization.patches ?? []) {
    const text = patch.path !== undefined ? fs.readFileSync(path.resolve(dir, patch.path), 'utf8') : patch.patch;
    const operations = parseDocument(text ?? '').toJS() as unknown;
    if (!Array.isArray(operations)) throw new Error(`${file}: only RFC 6902 (list) patches are supported`);
    const matches = manifests.filter(
      (m) =>
        (patch.target?.kind === undefined || m.kind === patch.target.kind) &&
        (patch.target?.name === undefined || m.metadata.name === patch.target.name),
    );
    if (matches.length === 0) throw new Error(`${file}: patch target ${JSON.stringify(patch.target)} matches nothing`);
    manifests = manifests.map((m) => (matches.includes(m) ? (applyJsonPatch(m, operations as JsonPatchOperation[]) as Manifest) : m));
  }
  for (const image of kustomization.images ?? []) {
    for (const m of manifests) setImages(m, image);
  }
  if (kustomization.namespace !== undefined) {
    for (const m of manifests) m.metadata.namespace = kustomization.namespace;
  }
  return manifests;
}

export function readManifests(file: string): Manifest[] {
  return parseAllDocuments(fs.readFileSync(file, 'utf8'))
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
      return document.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

function setImages(manifest: Manifest, image: NonNullable<Kustomization['images']>[number]): void {
  const podSpec = (manifest as { spec?: { template?: { spec?: Record<string, unknown> } } }).spec?.template?.spec;
  if (podSpec === undefined) return;
  for (const key of ['containers', 'initContainers']) {
    for (const container of (podSpec[key] ?? []) as { image?: string }[]) {
      const reference = container.image ?? '';
      const name = reference.split('@')[0]!.replace(/:[^/:]*$/, '');
      if (name !== image.name) continue;
      const tag = image.digest !== undefined ? `@${image.digest}` : image.newTag !== undefined ? `:${image.newTag}` : reference.slice(name.length);
      container.image = `${image.newName ?? name}${tag}`;
    }
  }
}

// --- RFC 6902 ----------------------------------------------------------------------------------------------------

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'test';
  path: string;
  value?: unknown;
}

/** Apply an RFC 6902 patch (add, remove, replace, test) to a copy of `document`; a failed test throws. */
export function applyJsonPatch(document: unknown, operations: JsonPatchOperation[]): unknown {
  const root = structuredClone(document);
  for (const operation of operations) {
    const tokens = pointer(operation.path);
    const key = tokens.pop()!;
    const parent = tokens.reduce<unknown>((node, token) => child(node, token, operation.path), root);
    if (parent === null || typeof parent !== 'object') throw new Error(`${operation.path}: parent is not a container`);
    switch (operation.op) {
      case 'test':
        if (JSON.stringify(child(parent, key, operation.path)) !== JSON.stringify(operation.value)) {
          throw new Error(`test failed at ${operation.path}: expected ${JSON.stringify(operation.value)}`);
        }
        break;
      case 'remove':
        child(parent, key, operation.path);
        if (Array.isArray(parent)) parent.splice(index(parent, key, operation.path, false), 1);
        else delete (parent as Record<string, unknown>)[key];
        break;
      case 'replace':
        child(parent, key, operation.path);
        if (Array.isArray(parent)) parent[index(parent, key, operation.path, false)] = structuredClone(operation.value);
        else (parent as Record<string, unknown>)[key] = structuredClone(operation.value);
        break;
      case 'add':
        if (Array.isArray(parent)) parent.splice(index(parent, key, operation.path, true), 0, structuredClone(operation.value));
        else (parent as Record<string, unknown>)[key] = structuredClone(operation.value);
        break;
      default:
        throw new Error(`unsupported JSON patch operation ${JSON.stringify((operation as { op: unknown }).op)}`);
    }
  }
  return root;
}

function pointer(text: string): string[] {
  if (!text.startsWith('/')) throw new Error(`not a JSON pointer: ${text}`);
  return text.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function child(node: unknown, token: string, where: string): unknown {
  if (Array.isArray(node)) return node[index(node, token, where, false)];
  if (node !== null && typeof node === 'object' && Object.hasOwn(node, token)) return (node as Record<string, unknown>)[token];
  throw new Error(`${where}: no "${token}"`);
}

function index(array: unknown[], token: string, where: string, forAdd: boolean): number {
  if (forAdd && token === '-') return array.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new Error(`${where}: "${token}" is not an array index`);
  const i = Number(token);
  if (i > array.length || (!forAdd && i === array.length)) throw new Error(`${where}: index ${i} out of range`);
  return i;
}
