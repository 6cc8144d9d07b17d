/**
 * Offline schema validation of Kubernetes manifests, in two passes:
 *  1. the JSON schemas of the Kubernetes (and Prometheus Operator) APIs, compiled into the `kubernetes-models`
 *     packages (ajv): types, required fields, enums, formats;
 *  2. unknown fields, which those schemas allow (as the API server does, silently dropping them — a misspelt
 *     `readinesProbe` would vanish): every key of the manifest must be a property of the package's TypeScript
 *     interface for that kind, walked with the TypeScript compiler (like kubeconform's -strict).
 * A kind this module does not know is an error, not a pass.
 */
import { createRequire } from 'node:module';
import ts from 'typescript';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { Manifest } from './kustomize.ts';

interface Kind {
  model: new (data: never) => { validate(): void };
  /** Module and interface name of the kind's TypeScript declaration. */
  types: [module: string, name: string];
}

const KINDS: Record<string, Kind> = {
  'v1/ConfigMap': { model: ConfigMap, types: ['kubernetes-models/v1/ConfigMap', 'IConfigMap'] },
  'v1/Service': { model: Service, types: ['kubernetes-models/v1/Service', 'IService'] },
  'apps/v1/Deployment': { model: Deployment, types: ['kubernetes-models/apps/v1/Deployment', 'IDeployment'] },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    types: ['kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', 'IHorizontalPodAutoscaler'],
  },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget,
    types: ['kubernetes-models/policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'],
  },
  'monitoring.coreos.com/v1/ServiceMonitor': {
    model: ServiceMonitor,
    types: ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', 'IServiceMonitor'],
  },
};

/** Every problem found in `manifest`, as `Kind/name: where: what`; empty when it is valid. */
export function validateManifest(manifest: Manifest): string[] {
  const id = `${manifest.kind}/${manifest.metadata?.name ?? '?'}`;
  const kind = KINDS[`${manifest.apiVersion}/${manifest.kind}`];
  if (kind === undefined) return [`${id}: no schema for ${manifest.apiVersion} ${manifest.kind}`];
  const problems: string[] = [];
  try {
    new kind.model(manifest as never).validate();
  } catch (error) {
    problems.push(`${id}: ${(error as Error).message}`);
  }
  const checker = typeChecker();
  walk(manifest, declaredType(checker, kind.types), '', checker, problems);
  return problems.map((p) => (p.startsWith(id) ? p : `${id}: ${p}`));
}

let program: { checker: ts.TypeChecker; file: ts.SourceFile } | undefined;

/** One program over a small source that names every kind's interface (built once, checked lazily). */
function typeChecker(): ts.TypeChecker {
  return (program ??= buildProgram()).checker;
}

function buildProgram(): { checker: ts.TypeChecker; file: ts.SourceFile } {
  const require = createRequire(import.meta.url);
  const fileName = require.resolve('kubernetes-models/package.json').replace(/package\.json$/, '__seald_kinds.ts');
  const source = Object.values(KINDS)
    .map(({ types: [module, name] }, i) => `import type { ${name} as T${i} } from '${module}';\nexport declare const k${i}: T${i};`)
    .join('\n');
  const options: ts.CompilerOptions = { strict: true, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, noEmit: true };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => (name === fileName ? source : readFile(name));
  host.fileExists = ((exists) => (name: string) => name === fileName || exists(name))(host.fileExists.bind(host));
  host.getSourceFile = (name, version, ...rest) =>
    name === fileName ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest);
  const built = ts.createProgram([fileName], options, host);
  const file = built.getSourceFile(fileName)!;
  return { checker: built.getTypeChecker(), file };
}

function declaredType(checker: ts.TypeChecker, [module]: [string, string]): ts.Type {
  const index = Object.values(KINDS).findIndex((k) => k.types[0] === module);
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program!.file)!);
  const type = checker.getTypeOfSymbol(exports.find((s) => s.name === `k${index}`)!);
  // An unresolved import types as `any`, which would accept every field: refuse to check against it.
  if ((type.flags & ts.TypeFlags.Any) !== 0) throw new Error(`cannot load the TypeScript declaration from ${module}`);
  return type;
}

/** Report keys of `value` that `type` does not declare; scalars are left to the JSON schema. */
function walk(value: unknown, type: ts.Type, where: string, checker: ts.TypeChecker, problems: string[]): void {
  if (value === null || typeof value !== 'object') return;
  const candidates = (type.isUnion() ? type.types : [type]).filter((t) => (t.flags & ts.TypeFlags.Object) !== 0);
  if (candidates.length === 0) return; // e.g. `any` or a scalar-only type: nothing to check against
  if (candidates.length > 1) {
    // A union of object shapes: the value must fit one of them.
    const results = candidates.map((candidate) => {
      const found: string[] = [];
      walk(value, candidate, where, checker, found);
      return found;
    });
    if (!results.some((r) => r.length === 0)) problems.push(...results[0]!);
    return;
  }
  const shape = candidates[0]!;
  if (Array.isArray(value)) {
    const element = checker.getIndexTypeOfType(shape, ts.IndexKind.Number);
    if (element === undefined) {
      problems.push(`${where || '/'}: a list where the schema has no list`);
      return;
    }
    value.forEach((item, i) => walk(item, element, `${where}/${i}`, checker, problems));
    return;
  }
  const anyKey = checker.getIndexTypeOfType(shape, ts.IndexKind.String);
  for (const [key, item] of Object.entries(value)) {
    const property = checker.getPropertyOfType(shape, key);
    if (property !== undefined) walk(item, checker.getNonNullableType(checker.getTypeOfSymbol(property)), `${where}/${key}`, checker, problems);
    else if (anyKey !== undefined) walk(item, anyKey, `${where}/${key}`, checker, problems);
    else problems.push(`${where}/${key}: unknown field`);
  }
}
