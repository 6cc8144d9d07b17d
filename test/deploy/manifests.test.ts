/**
 * The Kubernetes manifests, checked without a cluster: every file and every rendered overlay passes the API schemas
 * with no unknown field (test/deploy/k8s-schema.ts), the checker really rejects broken manifests, and the Deployment
 * agrees with seald itself: ports, probes, SEALD_* variables, the drain time, and every path seald.yaml names.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT_VARIABLES, loadConfig, type SealdConfig } from '../../src/config/config.ts';
import { HEALTH_SERVICES } from '../../src/server/health.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { applyJsonPatch, readManifests, renderKustomization, type Manifest } from './kustomize.ts';
import { validateManifest } from './k8s-schema.ts';

const K8S = path.resolve(import.meta.dirname, '../../deploy/k8s');
const OVERLAYS = ['demo', 'production'] as const;

// --- shapes of the manifests, as far as these checks read them ------------------------------------------------------
interface Container {
  name: string;
  image: string;
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Probe {
  grpc?: { port: number; service?: string };
  exec?: { command: string[] };
  httpGet?: { port: number | string; path: string };
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
  emptyDir?: object;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  terminationGracePeriodSeconds: number;
}
interface Deployment extends Manifest {
  spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}
interface Service extends Manifest {
  metadata: Manifest['metadata'] & { labels: Record<string, string> };
  spec: { clusterIP?: string; selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[] };
}

function only<T extends Manifest>(manifests: Manifest[], kind: string, name?: string): T {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0] as T;
}

function manifestFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml') && !f.endsWith('kustomization.yaml') && !f.endsWith('.patch.yaml'))
    .map((f) => path.relative(process.cwd(), path.join(dir, f)));
}

const rendered = Object.fromEntries(OVERLAYS.map((o) => [o, renderKustomization(path.join(K8S, 'overlays', o))])) as Record<
  (typeof OVERLAYS)[number],
  Manifest[]
>;

describe('schema validation', () => {
  it.each(manifestFiles(K8S))('%s is valid', (file) => {
    const manifests = readManifests(file);
    expect(manifests.length).toBeGreaterThan(0);
    for (const manifest of manifests) expect(validateManifest(manifest)).toEqual([]);
  });

  it.each(OVERLAYS)('the rendered %s overlay is valid', (overlay) => {
    expect(rendered[overlay].map((m) => m.kind).sort()).toEqual(
      expect.arrayContaining(['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service', 'Service', 'ServiceMonitor']),
    );
    for (const manifest of rendered[overlay]) expect(validateManifest(manifest)).toEqual([]);
  });

  it('rejects broken manifests: misspelt field, wrong type, missing field, unknown kind', () => {
    const deployment = only<Deployment>(rendered.production, 'Deployment');
    const broken = (operations: Parameters<typeof applyJsonPatch>[1]) => validateManifest(applyJsonPatch(deployment, operations) as Manifest);
    expect(broken([{ op: 'add', path: '/spec/template/spec/containers/0/readinesProbe', value: { grpc: { port: 50051 } } }])).toEqual([
      'Deployment/seald: /spec/template/spec/containers/0/readinesProbe: unknown field',
    ]);
    expect(broken([{ op: 'replace', path: '/spec/template/spec/containers/0/ports/0/containerPort', value: '50051' }]).join()).toMatch(
      /containerPort must be integer/,
    );
    expect(broken([{ op: 'remove', path: '/spec/template/spec/containers' }]).join()).toMatch(/must have required property containers/);
    expect(broken([{ op: 'add', path: '/spec/template/spec/containers/0/lifecycle/preStop/sleep/secs', value: 5 }]).join()).toMatch(
      /preStop\/sleep\/secs: unknown field/,
    );
    const monitor = only(rendered.production, 'ServiceMonitor');
    expect(validateManifest(applyJsonPatch(monitor, [{ op: 'add', path: '/spec/endpoints/0/intervall', value: '1s' }]) as Manifest)).toEqual([
      'ServiceMonitor/seald: /spec/endpoints/0/intervall: unknown field',
    ]);
    expect(validateManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } })).toEqual(['Pod/x: no schema for v1 Pod']);
  });
});

describe('the overlay renderer', () => {
  it('guards removals with tests and refuses what it does not implement', () => {
    const doc = { list: [{ name: 'a' }, { name: 'b' }] };
    expect(applyJsonPatch(doc, [{ op: 'test', path: '/list/1/name', value: 'b' }, { op: 'remove', path: '/list/1' }])).toEqual({ list: [{ name: 'a' }] });
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/list/1/name', value: 'a' }])).toThrow(/test failed/);
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/list/2' }])).toThrow(/out of range/);
    expect(applyJsonPatch(doc, [{ op: 'add', path: '/list/-', value: { name: 'c' } }])).toEqual({ list: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-kustomize-'));
    try {
      fs.writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources: []\ncommonLabels: { a: b }\n');
      expect(() => renderKustomization(dir)).toThrow(/"commonLabels" is not supported/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(OVERLAYS)('the %s overlay matches what seald reads', (overlay) => {
  const manifests = rendered[overlay];
  const deployment = only<Deployment>(manifests, 'Deployment', 'seald');
  const pod = deployment.spec.template.spec;
  const seald = pod.containers.find((c) => c.name === 'seald')!;
  const env = Object.fromEntries((seald.env ?? []).map((e) => [e.name, e.value ?? '']));
  const port = (name: string): number => seald.ports!.find((p) => p.name === name)!.containerPort;
  let dir: string;
  let config: SealdConfig | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `seald-manifests-${overlay}-`));
    if (env.SEALD_CONFIG === undefined) return; // the demo runs on the embedded defaults
    // The seald.yaml the pod would read: the ConfigMap behind the volume mounted at dirname(SEALD_CONFIG).
    const mount = seald.volumeMounts!.find((m) => m.mountPath === path.dirname(env.SEALD_CONFIG!))!;
    const configMap = only<Manifest & { data: Record<string, string> }>(manifests, 'ConfigMap', pod.volumes!.find((v) => v.name === mount.name)!.configMap!.name);
    const file = path.join(dir, path.basename(env.SEALD_CONFIG));
    fs.writeFileSync(file, configMap.data[path.basename(env.SEALD_CONFIG)]!);
    config = await loadConfig({ flags: { config: file }, env: { ...env, SEALD_CONFIG: '' } });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sets only SEALD_* variables that seald reads', () => {
    const names = Object.keys(env).filter((name) => name.startsWith('SEALD_'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(Object.keys(ENVIRONMENT_VARIABLES)).toContain(name);
  });

  it('listens where the ports, probes and Services point', () => {
    const listenPort = Number(env.SEALD_LISTEN!.split(':').pop());
    const metricsPort = Number(env.SEALD_METRICS!.split(':').pop());
    expect(env.SEALD_LISTEN).toMatch(/^0\.0\.0\.0:/); // reachable from the kubelet and other pods
    expect(env.SEALD_METRICS).toMatch(/^0\.0\.0\.0:/);
    expect(port('grpc')).toBe(listenPort);
    expect(port('metrics')).toBe(metricsPort);
    if (config !== undefined) {
      expect(config.listen).toBe(env.SEALD_LISTEN);
      expect(config.metrics).toBe(env.SEALD_METRICS);
    }
    if (config === undefined) {
      // The demo serves TLS from its own dev CA (it listens on 0.0.0.0): the kubelet's gRPC probe is plaintext, so
      // readiness is `seald health` in the pod, with the data dir's client certificate (test/deploy/demo-start.test.ts).
      const command = seald.readinessProbe!.exec!.command;
      expect(command.slice(0, 3)).toEqual(['node', '/app/bin/seald.mjs', 'health']);
      expect(command[command.indexOf('--server') + 1]).toBe(`127.0.0.1:${listenPort}`);
      expect(HEALTH_SERVICES).toContain(command[command.indexOf('--service') + 1]);
    } else {
      expect(seald.readinessProbe!.grpc!.port).toBe(listenPort);
      expect(HEALTH_SERVICES).toContain(seald.readinessProbe!.grpc!.service ?? '');
    }
    for (const probe of [seald.livenessProbe!, seald.startupProbe!]) {
      expect(probe.httpGet!.path).toBe('/metrics');
      expect(typeof probe.httpGet!.port === 'number' ? probe.httpGet!.port : port(probe.httpGet!.port)).toBe(metricsPort);
    }

    const labels = deployment.spec.template.metadata.labels;
    expect(labels).toMatchObject(deployment.spec.selector.matchLabels);
    const services = manifests.filter((m): m is Service => m.kind === 'Service');
    for (const service of services) {
      expect(labels).toMatchObject(service.spec.selector);
      for (const p of service.spec.ports) expect(seald.ports!.map((c) => c.name)).toContain(p.targetPort);
    }
    expect(only<Service>(manifests, 'Service', 'seald-headless').spec.clusterIP).toBe('None');

    const monitor = only<Manifest & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } }>(manifests, 'ServiceMonitor');
    const scraped = services.filter((s) => Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels[k] === v));
    const endpoints = scraped.flatMap((s) => s.spec.ports.filter((p) => monitor.spec.endpoints.some((e) => e.port === p.name)));
    expect(endpoints.map((p) => p.targetPort)).toEqual(['metrics']); // every pod scraped once, on its metrics port
    expect(monitor.spec.endpoints[0]!.path).toBe('/metrics');

    const pdb = only<Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }>(manifests, 'PodDisruptionBudget');
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
  });

  it('scales on a metric seald exports', () => {
    const hpa = only<Manifest & { spec: { scaleTargetRef: { kind: string; name: string }; metrics: { type: string; pods?: { metric: { name: string } } }[] } }>(manifests, 'HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    const custom = hpa.spec.metrics.filter((m) => m.type === 'Pods').map((m) => m.pods!.metric.name);
    expect(custom).toEqual(['seald_inflight_documents']);
    const { registry } = createMetrics();
    for (const name of custom) expect(registry.getSingleMetric(name), name).toBeDefined();
  });

  it('gives a terminating pod the preStop pause, the whole drain time and a margin', () => {
    const drainSeconds = config?.limits.drainSeconds ?? Number(env.SEALD_DRAIN_SECONDS);
    expect(drainSeconds).toBe(Number(env.SEALD_DRAIN_SECONDS));
    const preStop = seald.lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + drainSeconds + 5);
  });

  it('mounts every path seald.yaml names, from the right kind of volume', () => {
    const mounts = seald.volumeMounts ?? [];
    const volumeOf = (file: string): { volume: Volume; readOnly: boolean } => {
      const mount = mounts
        .filter((m) => file === m.mountPath || file.startsWith(`${m.mountPath}/`))
        .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      expect(mount, `${file} is on no volume`).toBeDefined();
      return { volume: pod.volumes!.find((v) => v.name === mount!.name)!, readOnly: mount!.readOnly === true };
    };
    // The data dir (spool, audit log, the demo's token) is writable in every overlay.
    const data = volumeOf(env.SEALD_DATA_DIR!);
    expect(data.readOnly).toBe(false);
    expect(data.volume.emptyDir).toBeDefined();
    for (const volume of pod.volumes ?? []) expect(mounts.map((m) => m.name)).toContain(volume.name);
    if (config === undefined) {
      expect(overlay).toBe('demo');
      expect(pod.volumes!.filter((v) => v.secret !== undefined || v.configMap !== undefined)).toEqual([]);
      expect(seald.image).toMatch(/:demo$/);
      return;
    }
    expect(config.dataDir).toBe(env.SEALD_DATA_DIR);
    expect(config.limits.tmpDir.startsWith(`${config.dataDir}/`)).toBe(true);
    for (const token of config.pkcs11.tokens) {
      expect(token.pin.file, 'the PIN comes from a file').toBeDefined();
      expect(volumeOf(token.pin.file!).volume.secret?.secretName).toBe('seald-token-pin');
    }
    for (const seal of config.seals) {
      expect(volumeOf(seal.certificates!).volume.configMap?.name).toBe('seald-seals');
      expect(volumeOf(seal.image!).volume.configMap?.name).toBe('seald-seals');
    }
    for (const anchor of config.trust.anchors) expect(volumeOf(anchor).volume.configMap?.name).toBe('seald-seals');
    // The PKCS#11 module: on a volume an init container fills from the vendor's image.
    const module = volumeOf(config.pkcs11.module);
    expect(module.readOnly).toBe(true);
    const filler = (pod.initContainers ?? []).filter((c) => c.volumeMounts?.some((m) => m.name === module.volume.name));
    expect(filler.map((c) => c.name)).toEqual(['hsm-module']);
  });
});
