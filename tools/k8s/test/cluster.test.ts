/**
 * `npm run cluster:up` / `cluster:down`: the plan per provider (order, pinned versions, the seed's
 * apply order, a wait for every workload), the dry run, the prerequisite message and the clean-up of
 * a half-created cluster. No cluster or container engine exists here: the plan is checked as data, and
 * the runner is driven with recording stand-ins (fixtures/fake-tool.sh). What this cannot prove — a
 * real cluster coming up — runs in .github/workflows/e2e.yml.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { parseArgs, UsageError } from '../cluster/main.js';
import { planDown, planUp, workloads, type ClusterOptions, type Step } from '../cluster/plan.js';
import { forwardArgs } from '../cluster/forward.js';
import { TRACING } from '../cluster/tracing.js';
import { loadVersions, manifestUrls } from '../cluster/versions.js';
import { find, podTemplates, type K8sObject } from '../verify/objects.js';
import { renderKustomize, renderedPlatform, SEED_APPLY_PATHS } from '../verify/render.js';
import { REPO_ROOT } from '../secrets.js';

const versions = loadVersions();
const root = mkdtempSync(join(tmpdir(), 'sre-cluster-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const options = (o: Partial<ClusterOptions> = {}): ClusterOptions => ({
  provider: 'kind',
  name: 'sre',
  engine: 'docker',
  repoRoot: REPO_ROOT,
  workDir: '/work-dir',
  ...o,
});
const commands = (steps: readonly Step[]) => steps.filter((s) => s.argv).map((s) => s.argv!.join(' '));
const indexOf = (steps: readonly Step[], pattern: RegExp) => {
  const i = commands(steps).findIndex((c) => pattern.test(c));
  assert.ok(i >= 0, `no step matches ${pattern}:\n${commands(steps).join('\n')}`);
  return i;
};

describe('cluster:up plan', () => {
  it('kind: cluster, Calico, nodes, StorageClass, ingress-nginx, metrics-server, images, secrets, the seed order, waits — in that order', () => {
    const steps = planUp(options(), versions, '0.1.0');
    const order = [
      /^kind create cluster --name sre --config \/work-dir\/kind\.yaml --image kindest\/node:v\d.*@sha256:/,
      new RegExp(`apply -f ${manifestUrls(versions).calico.replace(/[.]/g, '\\.')}$`),
      /rollout status daemonset\/calico-node/,
      /wait --for=condition=Ready nodes --all/,
      /local-path-storage\.yaml/,
      /provider\/kind\/deploy\.yaml/,
      /rollout status deployment\/ingress-nginx-controller/,
      /metrics-server\/releases\/download\/v.*\/components\.yaml/,
      /--kubelet-insecure-tls/,
      /rollout status deployment\/metrics-server/,
      /^docker build -f services\/gateway\/Dockerfile -t localhost\/sre-platform\/api-service:0\.1\.0-local \.$/,
      /^docker save -o \/work-dir\/images\.tar/,
      /^kind load image-archive \/work-dir\/images\.tar --name sre$/,
      /tools\/k8s\/secrets\.sh$/,
      /tools\/k8s\/tls\.sh$/,
      /apply -f \/work-dir\/k8s\/namespaces\.yaml$/,
    ];
    const positions = order.map((p) => indexOf(steps, p));
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
      'steps out of order',
    );
    assert.match(steps.find((s) => s.write)!.write!.content, /disableDefaultCNI: true/);
    // Every kubectl call names the cluster's context, never the current one.
    for (const c of commands(steps).filter((x) => x.startsWith('kubectl'))) assert.match(c, /^kubectl --context kind-sre /);
  });

  it('applies in the seed order (namespaces, secrets, deployments, services, ingress, hpa, monitoring, then the rest), then waits for every workload', () => {
    const steps = planUp(options(), versions, '0.1.0');
    const applied = commands(steps)
      .filter((c) => / apply -f (\/work-dir\/k8s\/|.*k8s\/secrets\.yaml|.*k8s\/tls\/)/.test(c))
      .map((c) =>
        c
          .replace(/^.* apply -f /, '')
          .replace(/^\/work-dir\/k8s\//, '')
          .replace(`${REPO_ROOT}/k8s/`, ''),
      );
    assert.deepEqual(applied, ['namespaces.yaml', 'secrets.yaml', 'tls/app-tls.yaml', ...SEED_APPLY_PATHS.slice(2)]);
    assert.deepEqual(SEED_APPLY_PATHS.slice(0, 7), ['namespaces.yaml', 'secrets.yaml', 'deployments/', 'services/', 'ingress.yaml', 'hpa/', 'monitoring/']);
    const lastApply = indexOf(steps, /apply -f \/work-dir\/k8s\/data\//);
    const waits = commands(steps).slice(lastApply + 1);
    const expected = workloads(REPO_ROOT).map((w) => `${w.metadata.namespace}/${w.kind === 'Job' ? 'job' : w.kind.toLowerCase()}/${w.metadata.name}`);
    assert.equal(expected.length, podTemplates(workloads(REPO_ROOT)).length);
    assert.ok(expected.length >= 10, `only ${expected.length} workloads`);
    for (const w of expected) {
      const [ns, kind, name] = w.split('/');
      assert.ok(
        waits.some((c) => c.includes(`-n ${ns} `) && c.includes(`${kind}/${name}`)),
        `no wait for ${w}`,
      );
    }
  });

  it("k3d: the pinned k3s image, Traefik off, the cloud ingress manifest, k3s' own NetworkPolicy controller and metrics-server, k3d image import", () => {
    const steps = planUp(options({ provider: 'k3d' }), versions, '0.1.0');
    indexOf(steps, new RegExp(`^k3d cluster create sre --image ${versions.k3d.k3sImage.replace(/[.]/g, '\\.')} .*--disable=traefik@server:0`));
    indexOf(steps, /provider\/cloud\/deploy\.yaml/);
    indexOf(steps, /^k3d image import \/work-dir\/images\.tar --cluster sre$/);
    assert.ok(!commands(steps).some((c) => /calico|components\.yaml/.test(c)), 'k3d needs no Calico or metrics-server install');
    for (const c of commands(steps).filter((x) => x.startsWith('kubectl'))) assert.match(c, /^kubectl --context k3d-sre /);
  });

  it('minikube: Calico and the pinned Kubernetes at start, the ingress and metrics-server addons, minikube image load', () => {
    const steps = planUp(options({ provider: 'minikube', engine: 'podman' }), versions, '0.1.0');
    indexOf(steps, new RegExp(`^minikube start -p sre --driver podman --cni calico --kubernetes-version ${versions.minikube.kubernetesVersion}`));
    indexOf(steps, /^minikube -p sre addons enable ingress$/);
    indexOf(steps, /^minikube -p sre addons enable metrics-server$/);
    indexOf(steps, /^podman save --multi-image-archive -o \/work-dir\/images\.tar/);
    indexOf(steps, /^minikube -p sre image load \/work-dir\/images\.tar$/);
  });

  it('--context: no cluster made or deleted, add-ons only where missing, the given pushed images', () => {
    const o = options({ context: 'prod-like', images: { repository: 'ghcr.io/my-org', tag: '0.2.0' } });
    const steps = planUp(o, versions, '0.1.0');
    assert.ok(!commands(steps).some((c) => /^(kind|k3d|minikube) /.test(c)), 'touches the cluster lifecycle');
    assert.ok(!steps.some((s) => s.createsCluster));
    assert.ok(!commands(steps).some((c) => /calico|^docker /.test(c)), 'changes the CNI or builds images');
    assert.ok(steps[indexOf(steps, /ingress-nginx\/.*deploy\.yaml/)]!.unless, 'installs ingress-nginx unconditionally');
    assert.ok(steps[indexOf(steps, /components\.yaml/)]!.unless, 'installs metrics-server unconditionally');
    const copy = steps.find((s) => s.copyManifests)!.copyManifests!;
    assert.equal(copy.images['api-service'], 'ghcr.io/my-org/api-service:0.2.0');
    assert.deepEqual(
      commands(planDown(o)).map((c) => c.split(' ').slice(0, 5).join(' ')),
      ['kubectl --context prod-like delete namespace', 'kubectl --context prod-like delete clusterrole,clusterrolebinding'],
    );
  });

  it('cluster:down deletes exactly the cluster it names', () => {
    assert.deepEqual(commands(planDown(options())), ['kind delete cluster --name sre']);
    assert.deepEqual(commands(planDown(options({ provider: 'k3d', name: 'demo' }))), ['k3d cluster delete demo']);
    assert.deepEqual(commands(planDown(options({ provider: 'minikube' }))), ['minikube delete -p sre']);
  });

  it('every third-party version is pinned in versions.json and used from there', () => {
    const all = [
      planUp(options(), versions, '0.1.0'),
      planUp(options({ provider: 'k3d' }), versions, '0.1.0'),
      planUp(options({ provider: 'minikube' }), versions, '0.1.0'),
    ]
      .flatMap(commands)
      .join('\n');
    for (const [name, pins] of Object.entries(versions)) {
      if (name.startsWith('$')) continue;
      for (const [field, value] of Object.entries(pins as Record<string, string>)) {
        if (field === 'version' && ['kind', 'k3d', 'minikube', 'kubectl'].includes(name)) continue; // the CLIs themselves: installed by the user or the workflows
        assert.ok(all.includes(value), `${name}.${field} ${value} is not used by any plan`);
      }
    }
    assert.match(versions.kind.nodeImage, /@sha256:[0-9a-f]{64}$/, 'the kind node image is pinned by digest');
    for (const url of Object.values(manifestUrls(versions))) assert.doesNotMatch(url, /\/(main|master|latest)\//, `${url} follows a moving branch`);
  });

  describe('--with-loadgenerator', () => {
    const LOAD_REF = 'localhost/sre-platform/loadgenerator:0.1.0-local';
    const loadSteps = (steps: readonly Step[]) => commands(steps).filter((c) => /loadgenerator/.test(c));

    it('without it: no load generator build, load or apply', () => {
      const steps = planUp(options(), versions, '0.1.0');
      assert.deepEqual(loadSteps(steps), []);
      assert.ok(!steps.some((s) => s.write?.content.includes('loadgenerator')));
      assert.equal(parseArgs(['up'], '/w').options.withLoadGenerator, false);
    });

    it('builds tools/load/Dockerfile with the same engine, loads it in the one archive, applies the component after every wait', () => {
      assert.equal(parseArgs(['up', '--with-loadgenerator'], '/w').options.withLoadGenerator, true);
      for (const engine of ['docker', 'podman'] as const) {
        const steps = planUp(options({ engine, withLoadGenerator: true }), versions, '0.1.0');
        const build = indexOf(steps, new RegExp(`^${engine} build -f tools/load/Dockerfile -t ${LOAD_REF} \\.$`));
        const save = indexOf(steps, new RegExp(`^${engine} save .*-o /work-dir/images\\.tar .*api-service.* ${LOAD_REF}$`));
        const load = indexOf(steps, /^kind load image-archive \/work-dir\/images\.tar --name sre$/);
        const apply = indexOf(steps, /^kubectl --context kind-sre apply -k \/work-dir\/loadgenerator$/);
        const lastWait = indexOf(steps, /rollout status deployment\/api-service/);
        assert.ok(build < save && save < load && load < lastWait && lastWait < apply, `out of order: ${[build, save, load, lastWait, apply]}`);
        assert.deepEqual(loadSteps(steps).length, 3, loadSteps(steps).join('\n'));
      }
      const k3d = planUp(options({ provider: 'k3d', withLoadGenerator: true }), versions, '0.1.0');
      indexOf(k3d, new RegExp(`^docker save -o /work-dir/images\\.tar .* ${LOAD_REF}$`));
      indexOf(k3d, /^k3d image import \/work-dir\/images\.tar --cluster sre$/);
    });

    it('with pushed images: nothing built, the pushed load generator applied', () => {
      const steps = planUp(
        options({ context: 'prod-like', images: { repository: 'ghcr.io/my-org', tag: '0.2.0' }, withLoadGenerator: true }),
        versions,
        '0.1.0',
      );
      assert.ok(!commands(steps).some((c) => / build /.test(c)));
      assert.match(
        steps.find((s) => s.write?.path === '/work-dir/loadgenerator/kustomization.yaml')!.write!.content,
        /newName: ghcr\.io\/my-org\/loadgenerator\n +newTag: "0\.2\.0"/,
      );
    });

    it(
      'renders the component with the local image at 0 replicas, the Deployment the load-spike drill scales',
      requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/ — kubectl renders with its built-in kustomize'),
      () => {
        const work = mkdtempSync(join(root, 'work-'));
        const steps = planUp(options({ workDir: work, withLoadGenerator: true }), versions, '0.1.0');
        const write = steps.find((s) => s.write?.path.startsWith(join(work, 'loadgenerator')))!.write!;
        // The copied manifests' stand-in: the component is not edited by the copy.
        symlinkSync(join(REPO_ROOT, 'k8s'), join(work, 'k8s'));
        mkdirSync(join(work, 'loadgenerator'));
        writeFileSync(write.path, write.content);
        const objects = renderKustomize(join(work, 'loadgenerator'));
        const deployment = find(objects, 'Deployment', 'app', 'loadgenerator') as
          { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } } | undefined;
        assert.ok(deployment, 'no Deployment app/loadgenerator (tools/drills/src/targets/kubernetes.ts scales deployment/loadgenerator in app)');
        assert.equal(deployment.spec.replicas, 0);
        assert.deepEqual(
          deployment.spec.template.spec.containers.map((c) => c.image),
          [LOAD_REF],
        );
        assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
          'Deployment/loadgenerator',
          'NetworkPolicy/api-service-from-loadgenerator',
          'NetworkPolicy/loadgenerator',
        ]);
      },
    );
  });

  describe('--with-tracing', () => {
    const tracingSteps = (steps: readonly Step[]) => steps.filter((s) => s.argv?.some((a) => a.includes('tracing')) || s.write?.path.includes('tracing'));

    it('without it: no tracing step, and cluster:forward leaves Jaeger out', () => {
      assert.deepEqual(tracingSteps(planUp(options(), versions, '0.1.0')), []);
      assert.equal(parseArgs(['up'], '/w').options.withTracing, false);
      assert.ok(!forwardArgs('kind-sre').some((a) => a.includes('svc/jaeger')));
    });

    it('applies the platform with the component after every wait, then waits for what it adds or rolls out', () => {
      assert.equal(parseArgs(['up', '--with-tracing'], '/w').options.withTracing, true);
      const steps = planUp(options({ withTracing: true }), versions, '0.1.0');
      const lastBaseWait = indexOf(steps, /rollout status deployment\/api-service --timeout=600s$/);
      const apply = indexOf(steps, /^kubectl --context kind-sre apply -k \/work-dir\/tracing$/);
      assert.ok(lastBaseWait < apply, 'the component goes on a platform that is up');
      const write = steps.find((s) => s.write?.path === '/work-dir/tracing/kustomization.yaml');
      assert.ok(write, 'no Kustomization written for the component');
      for (const w of TRACING.workloads) {
        const [namespace, kind, name] = w.split('/');
        const wait = new RegExp(`-n ${namespace} rollout status ${kind}/${name} --timeout=600s$`);
        assert.ok(
          commands(steps)
            .slice(apply + 1)
            .some((c) => wait.test(c)),
          `no wait for ${w} after the apply`,
        );
      }
      // With the load generator too: both, each once.
      const both = commands(planUp(options({ withTracing: true, withLoadGenerator: true }), versions, '0.1.0'));
      assert.equal(both.filter((c) => c.endsWith('apply -k /work-dir/tracing')).length, 1);
      assert.equal(both.filter((c) => c.endsWith('apply -k /work-dir/loadgenerator')).length, 1);
      assert.deepEqual(forwardArgs('kind-sre', true).at(-1), [
        '--context',
        'kind-sre',
        '-n',
        'monitoring',
        'port-forward',
        '--address',
        '127.0.0.1',
        'svc/jaeger',
        '16686:16686',
      ]);
    });

    it(
      'its Kustomization renders the overlay users apply, and the waits cover every workload the component adds or changes',
      requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/ — kubectl renders with its built-in kustomize'),
      () => {
        const work = mkdtempSync(join(root, 'work-'));
        const steps = planUp(options({ workDir: work, withTracing: true }), versions, '0.1.0');
        const write = steps.find((s) => s.write?.path.startsWith(join(work, 'tracing')))!.write!;
        // The copied manifests' stand-in (the copy only renames images).
        symlinkSync(join(REPO_ROOT, 'k8s'), join(work, 'k8s'));
        mkdirSync(join(work, 'tracing'));
        writeFileSync(write.path, write.content);
        const traced = renderKustomize(join(work, 'tracing'));
        const overlay = renderKustomize(join(REPO_ROOT, 'tools/k8s/overlays/tracing'));
        assert.deepEqual(traced, overlay);
        // A pod template that is new or differs (spec or annotations) is a rollout to wait for.
        const templates = (objects: readonly K8sObject[]) =>
          new Map(
            podTemplates(objects).map((t) => [
              `${t.namespace}/${t.owner.kind.toLowerCase()}/${t.owner.metadata.name}`,
              JSON.stringify([t.spec, t.annotations]),
            ]),
          );
        const before = templates(renderedPlatform().objects);
        const changed = [...templates(traced)].filter(([id, template]) => before.get(id) !== template).map(([id]) => id);
        assert.deepEqual(changed.sort(), [...TRACING.workloads].sort());
      },
    );
  });

  it('refuses an existing cluster without pushed images, an unknown provider and a floating tag', () => {
    assert.throws(
      () => parseArgs(['up', '--context', 'prod-like'], '/w'),
      (e: Error) => e instanceof UsageError && /cannot see locally built images/.test(e.message),
    );
    assert.throws(() => parseArgs(['up', '--provider', 'docker-desktop'], '/w'), /unknown provider/);
    assert.throws(() => parseArgs(['up', '--context', 'x', '--images', 'ghcr.io/o:latest'], '/w'), /pinned tag/);
    assert.equal(parseArgs(['up', '--context', 'docker-desktop'], '/w').options.context, 'docker-desktop');
  });
});

describe('cluster:up runner (with recording stand-ins for kind, kubectl, docker and bash)', () => {
  /** A PATH whose kind/k3d/minikube/docker/kubectl/bash are fixtures/fake-tool.sh; `missing` tools are left out. */
  function sandbox(missing: readonly string[] = []): { path: string; log: string } {
    const dir = mkdtempSync(join(root, 'bin-'));
    for (const tool of ['kind', 'k3d', 'minikube', 'docker', 'kubectl', 'bash', 'openssl'].filter((t) => !missing.includes(t)))
      symlinkSync(join(REPO_ROOT, 'tools/k8s/test/fixtures/fake-tool.sh'), join(dir, tool));
    return { path: dir, log: join(dir, 'calls.log') };
  }
  const run = (s: { path: string; log: string }, args: string[], env: Record<string, string> = {}) => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'tools/k8s/cluster/main.ts'), ...args], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { PATH: `${s.path}:/usr/bin:/bin`, FAKE_LOG: s.log, HOME: root, ...env },
    });
    let calls: string[] = [];
    try {
      calls = readFileSync(s.log, 'utf8').trim().split('\n').filter(Boolean);
    } catch {
      // no call at all
    }
    return { ...result, calls };
  };

  it('--dry-run prints one numbered line per step and runs nothing', () => {
    const s = sandbox();
    const result = run(s, ['up', '--dry-run', '--engine', 'docker']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.calls, []);
    const lines = result.stdout.split('\n').filter((l) => /^\[\d+\/\d+\] /.test(l));
    const total = Number(/dry run — (\d+) steps/.exec(result.stdout)?.[1]);
    assert.equal(lines.length, total);
    assert.match(result.stdout, /\$ kind create cluster --name sre/);
    assert.match(result.stdout, /\$ kubectl --context kind-sre apply -f .*calico\.yaml/);
    assert.doesNotMatch(result.stdout, /loadgenerator/);
  });

  it("--dry-run --with-loadgenerator shows the load generator's build, load and apply", () => {
    const s = sandbox();
    const result = run(s, ['up', '--dry-run', '--engine', 'docker', '--with-loadgenerator']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.calls, []);
    assert.match(result.stdout, /\$ docker build -f tools\/load\/Dockerfile -t localhost\/sre-platform\/loadgenerator:\S+-local \./);
    assert.match(result.stdout, /save the 4 images to one archive\n +\$ docker save -o \S+\/images\.tar .*loadgenerator/);
    assert.match(result.stdout, /replicas:\n +\| +- name: loadgenerator\n +\| +count: 0/);
    assert.match(result.stdout, /\$ kubectl --context kind-sre apply -k \S+\/loadgenerator\n/);
  });

  it("--dry-run --with-tracing shows the component's Kustomization, its apply and the waits", () => {
    const s = sandbox();
    const result = run(s, ['up', '--dry-run', '--engine', 'docker', '--with-tracing']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.calls, []);
    assert.match(result.stdout, /components:\n +\| +- \.\.\/k8s\/components\/tracing/);
    assert.match(result.stdout, /\$ kubectl --context kind-sre apply -k \S+\/tracing\n/);
    assert.match(result.stdout, /\$ kubectl --context kind-sre -n monitoring rollout status deployment\/otel-collector --timeout=600s/);
  });

  it('names every missing prerequisite with how to install it, in one message, before doing anything', () => {
    const s = sandbox(['kind', 'docker']);
    const result = run(s, ['up', '--engine', 'docker']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /missing prerequisites/);
    assert.match(result.stderr, /- docker: https:\/\/docs\.docker\.com/);
    assert.match(result.stderr, new RegExp(`- kind: .*kind@${versions.kind.version}`));
    assert.deepEqual(result.calls, []);
  });

  it('deletes the cluster it created when a later step fails', () => {
    const s = sandbox();
    const result = run(s, ['up', '--engine', 'docker'], { FAKE_FAIL: 'calico\\.yaml' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /step 3 failed: install Calico/);
    assert.deepEqual(result.calls.slice(-1), ['kind delete cluster --name sre']);
    assert.ok(result.calls.some((c) => c.startsWith('kind create cluster')));
  });

  it('never deletes a cluster that existed before the run', () => {
    const s = sandbox();
    const result = run(s, ['up', '--engine', 'docker'], { FAKE_FAIL: 'calico\\.yaml', FAKE_KIND_CLUSTERS: 'sre' });
    assert.equal(result.status, 1);
    assert.ok(!result.calls.some((c) => c.startsWith('kind create') || c.startsWith('kind delete')), result.calls.join('\n'));
  });

  it('a full run applies the Deployments with the locally loaded images and waits for every rollout', () => {
    const s = sandbox();
    const result = run(s, ['up', '--engine', 'docker']);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.calls.includes('  image: localhost/sre-platform/api-service:0.1.0-local'), result.calls.join('\n'));
    assert.ok(!result.calls.some((c) => c.includes('ghcr.io/OWNER')), 'a Deployment still names ghcr.io/OWNER');
    assert.match(result.stdout, /Grafana {7}http:\/\/localhost:3000/);
    assert.match(result.stdout, /npm run cluster:forward/);
    assert.ok(result.calls.some((c) => c.endsWith('rollout status deployment/api-service --timeout=600s')));
  });

  it('a full run with --with-loadgenerator writes its Kustomization and applies it last', () => {
    const s = sandbox();
    const result = run(s, ['up', '--engine', 'docker', '--with-loadgenerator']);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(
      result.calls.some((c) => c.startsWith('docker build -f tools/load/Dockerfile ')),
      result.calls.join('\n'),
    );
    assert.match(result.calls.at(-1)!, /^kubectl --context kind-sre apply -k \/\S+\/loadgenerator$/);
  });

  it('a full run with --with-tracing applies the component and points at the Jaeger forward', () => {
    const s = sandbox();
    const result = run(s, ['up', '--engine', 'docker', '--with-tracing']);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(
      result.calls.some((c) => /^kubectl --context kind-sre apply -k \/\S+\/tracing$/.test(c)),
      result.calls.join('\n'),
    );
    assert.match(result.calls.at(-1)!, /rollout status deployment\/images-service --timeout=600s$/);
    assert.match(result.stdout, /Jaeger {8}http:\/\/localhost:16686/);
    assert.match(result.stdout, /npm run cluster:forward -- --context kind-sre --with-tracing/);
  });
});
