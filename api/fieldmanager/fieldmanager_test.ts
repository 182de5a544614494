import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadSchemas } from "../../openapi/schema.ts";
import type { KubeObject } from "../../machinery/object_meta.ts";
import { StatusError } from "../../machinery/status.ts";
import {
  checkManagedFieldsAfterAdmission,
  checkName,
  FieldManager,
  ignoreManagedFieldsTimestamps,
  LAST_APPLIED_ANNOTATION,
  managerFromUserAgent,
  validateWriteOptions,
} from "./fieldmanager.ts";
import type { ManagedFieldsEntry } from "./managed.ts";

const fm = new FieldManager(await loadSchemas());

const DEPLOY = { group: "apps", version: "v1", kind: "Deployment", resource: "deployments" };
const CM = { group: "", version: "v1", kind: "ConfigMap", resource: "configmaps" };
const T0 = "2024-05-01T10:00:00Z";
const T1 = "2024-05-01T10:05:00Z";
const T2 = "2024-05-01T10:10:00Z";
const T3 = "2024-05-01T10:15:00Z";

// deno-lint-ignore no-explicit-any
type Obj = Record<string, any>;

function mf(o: KubeObject): ManagedFieldsEntry[] {
  return (o.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
}

function entry(o: KubeObject, manager: string, operation?: string): ManagedFieldsEntry | undefined {
  return mf(o).find((e) => e.manager === manager && (!operation || e.operation === operation));
}

/** What the server holds after storing: a uid, as the registry adds it. */
function stored(o: KubeObject): KubeObject {
  const c = structuredClone(o) as Obj;
  c.metadata.uid ??= "11111111-2222-3333-4444-555555555555";
  c.metadata.creationTimestamp ??= T0;
  return c;
}

function statusError(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StatusError) return e;
    throw e;
  }
  throw new Error("expected a StatusError");
}

/** `kubectl create deployment nginx --image=nginx`, as stored after defaulting. */
function nginxDeployment(): Obj {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "nginx", namespace: "default", labels: { app: "nginx" }, creationTimestamp: null },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "nginx" } },
      template: {
        metadata: { creationTimestamp: null, labels: { app: "nginx" } },
        spec: {
          containers: [{
            name: "nginx",
            image: "nginx",
            resources: {},
            terminationMessagePath: "/dev/termination-log",
            terminationMessagePolicy: "File",
            imagePullPolicy: "Always",
          }],
          restartPolicy: "Always",
          terminationGracePeriodSeconds: 30,
          dnsPolicy: "ClusterFirst",
          securityContext: {},
          schedulerName: "default-scheduler",
        },
      },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {},
  };
}

const KUBECTL_CREATE_FIELDS = {
  "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
  "f:spec": {
    "f:progressDeadlineSeconds": {},
    "f:replicas": {},
    "f:revisionHistoryLimit": {},
    "f:selector": {},
    "f:strategy": {
      "f:rollingUpdate": { ".": {}, "f:maxSurge": {}, "f:maxUnavailable": {} },
      "f:type": {},
    },
    "f:template": {
      "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
      "f:spec": {
        "f:containers": {
          'k:{"name":"nginx"}': {
            ".": {},
            "f:image": {},
            "f:imagePullPolicy": {},
            "f:name": {},
            "f:resources": {},
            "f:terminationMessagePath": {},
            "f:terminationMessagePolicy": {},
          },
        },
        "f:dnsPolicy": {},
        "f:restartPolicy": {},
        "f:schedulerName": {},
        "f:securityContext": {},
        "f:terminationGracePeriodSeconds": {},
      },
    },
  },
};

test("create by kubectl create: one Update entry, '.' only on containers that did not exist before", () => {
  const created = fm.update(undefined, nginxDeployment(), { ...DEPLOY, manager: "kubectl-create", time: T0 });
  assert.equal(mf(created), [{
    manager: "kubectl-create",
    operation: "Update",
    apiVersion: "apps/v1",
    time: T0,
    fieldsType: "FieldsV1",
    fieldsV1: KUBECTL_CREATE_FIELDS,
  }]);
  // The serialized form keeps upstream's key order (fields sorted).
  assert.ok(
    JSON.stringify(mf(created)[0]).startsWith(
      '{"manager":"kubectl-create","operation":"Update","apiVersion":"apps/v1","time":"2024-05-01T10:00:00Z",' +
        '"fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{' +
        '"f:progressDeadlineSeconds":{},"f:replicas":{},',
    ),
  );
  // Status written on the main resource is not owned.
  const withStatus = fm.update(undefined, { ...nginxDeployment(), status: { replicas: 3 } }, {
    ...DEPLOY,
    manager: "kubectl-create",
    time: T0,
  });
  assert.equal(mf(withStatus)[0].fieldsV1, KUBECTL_CREATE_FIELDS);
});

test("update: changed fields move to the writer, entries sort by operation then time", () => {
  const created = stored(
    fm.update(undefined, nginxDeployment(), { ...DEPLOY, manager: "kubectl-create", time: T0 }),
  );
  const next = structuredClone(created) as Obj;
  next.spec.replicas = 3;
  next.spec.template.spec.containers[0].env = [{ name: "MODE", value: "fast" }];
  const edited = fm.update(created, next, { ...DEPLOY, manager: "kubectl-edit", time: T1 });
  assert.equal(mf(edited).map((e) => [e.manager, e.time]), [["kubectl-create", T0], ["kubectl-edit", T1]]);
  assert.equal(entry(edited, "kubectl-edit")!.fieldsV1, {
    "f:spec": {
      "f:replicas": {},
      "f:template": {
        "f:spec": {
          "f:containers": {
            'k:{"name":"nginx"}': {
              "f:env": { ".": {}, 'k:{"name":"MODE"}': { ".": {}, "f:name": {}, "f:value": {} } },
            },
          },
        },
      },
    },
  });
  const createFields = entry(edited, "kubectl-create")!.fieldsV1 as Obj;
  assert.not.ok("f:replicas" in createFields["f:spec"]);

  // The controller's status write is its own entry, with the subresource; spec changes there are ignored.
  const statusNext = structuredClone(stored(edited)) as Obj;
  statusNext.spec.replicas = 99;
  statusNext.status = {
    observedGeneration: 2,
    replicas: 3,
    conditions: [{ type: "Available", status: "True", reason: "MinimumReplicasAvailable" }],
  };
  const withStatus = fm.update(stored(edited), statusNext, {
    ...DEPLOY,
    subresource: "status",
    manager: "kube-controller-manager",
    time: T2,
  });
  const kcm = entry(withStatus, "kube-controller-manager")!;
  assert.is(kcm.subresource, "status");
  assert.equal(kcm.fieldsV1, {
    "f:status": {
      "f:conditions": {
        ".": {},
        'k:{"type":"Available"}': { ".": {}, "f:reason": {}, "f:status": {}, "f:type": {} },
      },
      "f:observedGeneration": {},
      "f:replicas": {},
    },
  });
  assert.equal(mf(withStatus).map((e) => e.manager), [
    "kubectl-create",
    "kubectl-edit",
    "kube-controller-manager",
  ]);
  // The same manager writing again merges into its entry and takes the new time.
  const again = structuredClone(stored(withStatus)) as Obj;
  again.metadata.labels.tier = "web";
  const merged = fm.update(stored(withStatus), again, { ...DEPLOY, manager: "kubectl-edit", time: T3 });
  const edit = entry(merged, "kubectl-edit")!;
  assert.is(edit.time, T3);
  assert.ok("f:replicas" in (edit.fieldsV1 as Obj)["f:spec"]);
  assert.equal((edit.fieldsV1 as Obj)["f:metadata"], { "f:labels": { "f:tier": {} } });
  assert.equal(mf(merged).map((e) => e.manager), [
    "kubectl-create",
    "kube-controller-manager",
    "kubectl-edit",
  ]);
});

test("update that changes nothing keeps managedFields and times", () => {
  const created = stored(
    fm.update(undefined, nginxDeployment(), { ...DEPLOY, manager: "kubectl-create", time: T0 }),
  );
  const same = fm.update(created, structuredClone(created), { ...DEPLOY, manager: "other", time: T1 });
  assert.equal(mf(same), mf(created));
});

test("removed fields leave every manager; a manager left with nothing is dropped", () => {
  const a = stored(fm.update(undefined, cm({ a: "1" }), { ...CM, manager: "writer-a", time: T0 }));
  const b = stored(fm.update(a, cm({ a: "1", b: "2" }), { ...CM, manager: "writer-b", time: T1 }));
  const c = fm.update(b, cm({ a: "1" }), { ...CM, manager: "writer-c", time: T2 });
  assert.equal(mf(c).map((e) => e.manager), ["writer-a"]);
});

function cm(data: Record<string, string>, labels?: Record<string, string>): Obj {
  const o: Obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default" }, data };
  if (labels) o.metadata.labels = labels;
  return o;
}

test("apply creates: one Apply entry with what was applied, no '.' markers", () => {
  const config = cm({ key: "value" }, { "test-label": "test" });
  const out = fm.apply(undefined, config, { ...CM, manager: "apply_test", time: T0 });
  assert.equal(out.data, { key: "value" });
  assert.equal(mf(out), [{
    manager: "apply_test",
    operation: "Apply",
    apiVersion: "v1",
    time: T0,
    fieldsType: "FieldsV1",
    fieldsV1: { "f:data": { "f:key": {} }, "f:metadata": { "f:labels": { "f:test-label": {} } } },
  }]);
});

test("apply then updates by another manager: updates take the fields they change", () => {
  let obj = stored(fm.apply(undefined, cm({ key: "value" }, { "test-label": "test" }), {
    ...CM,
    manager: "apply_test",
    time: T0,
  }));
  obj = stored(fm.update(obj, { ...structuredClone(obj), data: { key: "value", "new-key": "value" } }, {
    ...CM,
    manager: "updater",
    time: T1,
  }));
  obj = fm.update(obj, { ...structuredClone(obj), data: { key: "new value", "new-key": "value" } }, {
    ...CM,
    manager: "updater",
    time: T2,
  });
  assert.equal(mf(obj), [
    {
      manager: "apply_test",
      operation: "Apply",
      apiVersion: "v1",
      time: T0,
      fieldsType: "FieldsV1",
      fieldsV1: { "f:metadata": { "f:labels": { "f:test-label": {} } } },
    },
    {
      manager: "updater",
      operation: "Update",
      apiVersion: "v1",
      time: T2,
      fieldsType: "FieldsV1",
      fieldsV1: { "f:data": { "f:key": {}, "f:new-key": {} } },
    },
  ]);
});

test("re-applying the same configuration changes nothing, not even the time", () => {
  const config = cm({ key: "value" });
  const first = stored(fm.apply(undefined, config, { ...CM, manager: "apply_test", time: T0 }));
  const second = fm.apply(first, config, { ...CM, manager: "apply_test", time: T1 });
  assert.equal(second, first);
});

test("applying only metadata that is never owned leaves no managedFields", () => {
  const config = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default" } };
  const first = stored(fm.apply(undefined, config, { ...CM, manager: "apply_test", time: T0 }));
  assert.is(first.metadata?.managedFields, undefined);
  const second = fm.apply(first, config, { ...CM, manager: "apply_test", time: T1 });
  assert.is(second.metadata?.managedFields, undefined);
});

test("apply removing a field deletes it unless another manager owns it", () => {
  const first = stored(
    fm.apply(undefined, cm({ a: "1", b: "2", c: "3" }), { ...CM, manager: "one", time: T0 }),
  );
  const shared = stored(fm.apply(first, cm({ c: "3" }), { ...CM, manager: "two", time: T1 }));
  const pruned = fm.apply(shared, cm({ a: "1" }), { ...CM, manager: "one", time: T2 });
  assert.equal(pruned.data, { a: "1", c: "3" });
  assert.equal(entry(pruned, "one")!.fieldsV1, { "f:data": { "f:a": {} } });
  assert.equal(entry(pruned, "two")!.fieldsV1, { "f:data": { "f:c": {} } });
  // Applying a field someone else applied keeps it; dropping it again does not remove it.
  const removedAll = fm.apply(stored(pruned), cm({}), { ...CM, manager: "one", time: T3 });
  assert.equal(removedAll.data, { c: "3" });
});

test("two appliers with the same value both own the field (the second gets no time)", () => {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default" },
    spec: { containers: [{ name: "c", image: "img" }] },
  };
  const POD = { group: "", version: "v1", kind: "Pod", resource: "pods" };
  const first = stored(fm.apply(undefined, pod, { ...POD, manager: "apply_test", time: T0 }));
  const second = fm.apply(first, pod, { ...POD, manager: "apply_test_2", time: T1 });
  assert.equal(second.spec, first.spec);
  assert.equal(entry(second, "apply_test_2")!.fieldsV1, entry(second, "apply_test")!.fieldsV1);
  assert.is(entry(second, "apply_test_2")!.time, undefined);
  assert.is(entry(second, "apply_test")!.time, T0);
});

test("conflicts: 409 worded as upstream, with causes; force moves the fields", () => {
  const csa = stored(fm.update(undefined, nginxDeployment(), {
    ...DEPLOY,
    manager: "kubectl-client-side-apply",
    time: T0,
  }));
  const config = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "nginx", namespace: "default" },
    spec: { replicas: 5 },
  };
  const err = statusError(() => fm.apply(csa, config, { ...DEPLOY, manager: "my-ssa", time: T1 }));
  assert.is(err.code, 409);
  assert.is(err.reason, "Conflict");
  assert.is(
    err.message,
    'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
  );
  assert.equal(err.details, {
    causes: [{
      reason: "FieldManagerConflict",
      message: 'conflict with "kubectl-client-side-apply" using apps/v1',
      field: ".spec.replicas",
    }],
  });
  assert.equal(err.toStatus().details?.causes?.length, 1);

  const forced = fm.apply(csa, config, { ...DEPLOY, manager: "my-ssa", force: true, time: T1 }) as Obj;
  assert.is(forced.spec.replicas, 5);
  assert.equal(entry(forced, "my-ssa")!.fieldsV1, { "f:spec": { "f:replicas": {} } });
  assert.not.ok("f:replicas" in (entry(forced, "kubectl-client-side-apply")!.fieldsV1 as Obj)["f:spec"]);
  // Applying the live value is not a conflict: both own it.
  const same = fm.apply(csa, { ...config, spec: { replicas: 1 } }, {
    ...DEPLOY,
    manager: "my-ssa",
    time: T1,
  });
  assert.ok("f:replicas" in (entry(same, "kubectl-client-side-apply")!.fieldsV1 as Obj)["f:spec"]);
});

test("several conflicts are grouped by manager", () => {
  let obj = stored(fm.apply(undefined, cm({ a: "1", b: "1" }), { ...CM, manager: "alpha", time: T0 }));
  obj = stored(fm.update(obj, { ...structuredClone(obj), data: { a: "1", b: "1", c: "1" } }, {
    ...CM,
    manager: "beta",
    subresource: "",
    time: T1,
  }));
  const err = statusError(() =>
    fm.apply(obj, cm({ a: "2", b: "2", c: "2" }), { ...CM, manager: "gamma", time: T2 })
  );
  assert.is(
    err.message,
    'Apply failed with 3 conflicts: conflicts with "alpha":\n- .data.a\n- .data.b\n' +
      'conflicts with "beta" using v1:\n- .data.c',
  );
  assert.equal(err.details?.causes?.map((c) => [c.message, c.field]), [
    ['conflict with "alpha"', ".data.a"],
    ['conflict with "alpha"', ".data.b"],
    ['conflict with "beta" using v1', ".data.c"],
  ]);
});

function web(extra: Obj = {}): Obj {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default" },
    spec: {
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [{ name: "web", image: "web:1", args: ["--a"], ports: [{ containerPort: 80 }] }],
        },
      },
      ...extra,
    },
  };
}

test("atomic lists conflict as a whole; keyed lists merge item by item", () => {
  const base = stored(fm.apply(undefined, web(), { ...DEPLOY, manager: "team-a", time: T0 }));
  // Another container and another port on the same container: merged, no conflict.
  const other = web();
  other.spec.template.spec.containers = [
    { name: "web", ports: [{ containerPort: 443 }] },
    { name: "sidecar", image: "proxy" },
  ];
  const merged = fm.apply(base, other, { ...DEPLOY, manager: "team-b", time: T1 }) as Obj;
  const containers = merged.spec.template.spec.containers;
  assert.equal(containers.map((c: Obj) => c.name), ["web", "sidecar"]);
  assert.equal(containers[0].ports, [{ containerPort: 80 }, { containerPort: 443 }]);
  assert.equal(containers[0].args, ["--a"]);
  // Different args: the whole list conflicts.
  const args = web();
  args.spec.template.spec.containers[0].args = ["--b"];
  const err = statusError(() => fm.apply(stored(merged), args, { ...DEPLOY, manager: "team-b", time: T2 }));
  assert.is(
    err.message,
    'Apply failed with 1 conflict: conflict with "team-a": .spec.template.spec.containers[name="web"].args',
  );
  // Ports are keyed by containerPort and protocol (TCP by default).
  assert.ok(
    'k:{"containerPort":443,"protocol":"TCP"}' in
      (entry(merged, "team-b")!.fieldsV1 as Obj)["f:spec"]["f:template"]["f:spec"]["f:containers"][
        'k:{"name":"web"}'
      ]["f:ports"],
  );
});

test("granular maps merge key by key; an atomic label selector conflicts as a whole", () => {
  const base = stored(fm.apply(undefined, web(), { ...DEPLOY, manager: "team-a", time: T0 }));
  const labels = web();
  labels.spec.template.metadata.labels = { tier: "front" };
  const merged = fm.apply(base, labels, { ...DEPLOY, manager: "team-b", time: T1 }) as Obj;
  assert.equal(merged.spec.template.metadata.labels, { app: "web", tier: "front" });
  const selector = web();
  selector.spec.selector = { matchLabels: { app: "web", tier: "front" } };
  const err = statusError(() =>
    fm.apply(stored(merged), selector, { ...DEPLOY, manager: "team-b", time: T2 })
  );
  assert.is(err.message, 'Apply failed with 1 conflict: conflict with "team-a": .spec.selector');
});

test("sets (finalizers) merge by value; each applier removes only its own", () => {
  const withFinalizers = (fs: string[]) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c", namespace: "default", finalizers: fs },
  });
  const a = stored(fm.apply(undefined, withFinalizers(["example.com/a"]), { ...CM, manager: "a", time: T0 }));
  const b = stored(fm.apply(a, withFinalizers(["example.com/b"]), { ...CM, manager: "b", time: T1 }));
  assert.equal(b.metadata?.finalizers, ["example.com/a", "example.com/b"]);
  assert.equal(entry(b, "b")!.fieldsV1, { "f:metadata": { "f:finalizers": { 'v:"example.com/b"': {} } } });
  const dropped = fm.apply(b, withFinalizers([]), { ...CM, manager: "a", time: T2 });
  assert.equal(dropped.metadata?.finalizers, ["example.com/b"]);
});

test("client-side apply to server-side apply, as kubectl 1.26+ migrates it", () => {
  // 1. `kubectl apply` (client-side) created the object.
  const manifest = web({ replicas: 2 });
  const lastApplied = JSON.stringify(manifest) + "\n";
  const created = structuredClone(manifest) as Obj;
  created.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: lastApplied };
  created.spec.template.spec.containers[0].imagePullPolicy = "IfNotPresent";
  created.spec.progressDeadlineSeconds = 600;
  let live = stored(
    fm.update(undefined, created, { ...DEPLOY, manager: "kubectl-client-side-apply", time: T0 }),
  );
  assert.ok(
    (entry(live, "kubectl-client-side-apply")!.fieldsV1 as Obj)["f:metadata"]["f:annotations"][
      `f:${LAST_APPLIED_ANNOTATION}`
    ],
  );

  // 2. `kubectl apply --server-side` with a changed manifest: conflicts on fields the client-side
  // apply set and nobody touched since are taken over.
  const changed = web({ replicas: 4 });
  const applied = stored(fm.apply(live, changed, { ...DEPLOY, manager: "kubectl", time: T1 }));
  assert.is((applied as Obj).spec.replicas, 4);
  // The server keeps the annotation in sync with what `kubectl` applied.
  const annotation = applied.metadata!.annotations![LAST_APPLIED_ANNOTATION];
  assert.is(annotation, JSON.stringify(JSON.parse(annotation)) + "\n");
  assert.equal(JSON.parse(annotation).spec.replicas, 4);
  assert.ok(annotation.startsWith('{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"'));
  // A change by someone else is still a conflict.
  const err = statusError(() => {
    const touched = structuredClone(live) as Obj;
    touched.spec.replicas = 3;
    const other = stored(fm.update(live, touched, { ...DEPLOY, manager: "hpa", time: T1 }));
    fm.apply(other, changed, { ...DEPLOY, manager: "kubectl", time: T2 });
  });
  assert.is(err.message, 'Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas');

  // 3. kubectl saves the annotation under its own applier.
  const annotationOnly = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", annotations: { [LAST_APPLIED_ANNOTATION]: annotation } },
  };
  live = stored(fm.apply(applied, annotationOnly, { ...DEPLOY, manager: "kubectl-last-applied", time: T2 }));
  assert.ok(entry(live, "kubectl-last-applied", "Apply"));

  // 4. kubectl merges the client-side entry into its `kubectl` Apply entry with a JSON patch of
  // metadata.managedFields; the server keeps what the client sent.
  const entries = structuredClone(mf(live));
  const csa = entries.find((e) => e.manager === "kubectl-client-side-apply")!;
  const ssa = entries.find((e) => e.manager === "kubectl" && e.operation === "Apply")!;
  ssa.fieldsV1 = mergeFields(ssa.fieldsV1 as Obj, csa.fieldsV1 as Obj);
  const upgraded = entries.filter((e) => e !== csa);
  const patched = structuredClone(live) as Obj;
  patched.metadata.managedFields = upgraded;
  live = stored(fm.update(live, patched, { ...DEPLOY, manager: "kubectl", time: T3 }));
  // The annotation's applier changed nothing, so it got no time and sorts first.
  assert.equal(mf(live).map((e) => [e.manager, e.operation, e.time]), [
    ["kubectl-last-applied", "Apply", undefined],
    ["kubectl", "Apply", T1],
  ]);

  // 5. The re-sent server-side apply drops what only the client-side apply had set (defaults
  // come back from defaulting) but keeps the annotation, which its own applier owns.
  const final = fm.apply(live, changed, { ...DEPLOY, manager: "kubectl", time: T3 }) as Obj;
  assert.is(final.spec.progressDeadlineSeconds, undefined);
  assert.is(final.spec.template.spec.containers[0].imagePullPolicy, undefined);
  assert.ok(final.metadata.annotations[LAST_APPLIED_ANNOTATION]);
  assert.equal(
    entry(final, "kubectl")!.fieldsV1,
    entry(
      fm.apply(undefined, changed, {
        ...DEPLOY,
        manager: "kubectl",
        time: T3,
      }),
      "kubectl",
    )!.fieldsV1,
  );
});

function mergeFields(a: Obj, b: Obj): Obj {
  const out: Obj = structuredClone(a);
  for (const [k, v] of Object.entries(b)) {
    out[k] = k in out ? mergeFields(out[k], v as Obj) : structuredClone(v);
  }
  return out;
}

test("pruning keeps items others own: a set inside a keyed list, and a struct emptied by its applier", () => {
  const schema = {
    type: "object" as const,
    properties: {
      parts: {
        type: "array" as const,
        listType: "map" as const,
        listMapKeys: ["name"],
        items: {
          type: "object" as const,
          properties: {
            name: { type: "string" as const },
            tags: { type: "array" as const, listType: "set" as const, items: { type: "string" as const } },
          },
        },
      },
      box: {
        type: "object" as const,
        properties: { name: { type: "string" as const }, size: { type: "integer" as const } },
      },
    },
  };
  const T = { group: "example.com", version: "v1", kind: "Thing", schema };
  const thing = (extra: Obj) => ({
    apiVersion: "example.com/v1",
    kind: "Thing",
    metadata: { name: "t" },
    ...extra,
  });
  let live = stored(fm.apply(undefined, thing({ parts: [{ name: "a" }, { name: "b", tags: ["c"] }] }), {
    ...T,
    manager: "one",
    time: T0,
  }));
  live = stored(
    fm.apply(live, thing({ parts: [{ name: "b", tags: ["d"] }] }), { ...T, manager: "two", time: T1 }),
  );
  live = stored(
    fm.update(live, {
      ...structuredClone(live),
      parts: [{ name: "a" }, { name: "b", tags: ["c", "d", "e"] }],
    }, {
      ...T,
      manager: "controller",
      time: T2,
    }),
  );
  const out = fm.apply(live, thing({ parts: [{ name: "a" }] }), { ...T, manager: "one", time: T3 }) as Obj;
  assert.equal(out.parts, [{ name: "a" }, { name: "b", tags: ["d", "e"] }]);
  assert.equal(entry(out, "one")!.fieldsV1, { "f:parts": { 'k:{"name":"a"}': { ".": {}, "f:name": {} } } });
  assert.equal(entry(out, "two")!.fieldsV1, {
    "f:parts": { 'k:{"name":"b"}': { ".": {}, "f:name": {}, "f:tags": { 'v:"d"': {} } } },
  });
  assert.equal(entry(out, "controller")!.fieldsV1, {
    "f:parts": { 'k:{"name":"b"}': { "f:tags": { 'v:"e"': {} } } },
  });

  for (const emptied of [{}, null]) {
    let box = stored(fm.apply(undefined, thing({ box: { name: "a" } }), { ...T, manager: "one", time: T0 }));
    box = stored(fm.update(box, { ...structuredClone(box), box: { name: "a", size: 1 } }, {
      ...T,
      manager: "controller",
      time: T1,
    }));
    const after = fm.apply(box, thing({ box: emptied }), { ...T, manager: "one", time: T2 }) as Obj;
    assert.equal(after.box, { size: 1 });
    assert.equal(entry(after, "one")!.fieldsV1, { "f:box": {} });
  }
});

test("apply to an object nobody tracked: existing fields belong to before-first-apply", () => {
  const untracked = stored(cm({ a: "1" }));
  const err = statusError(() =>
    fm.apply(untracked, cm({ a: "2" }), { ...CM, manager: "newcomer", time: T1 })
  );
  assert.is(
    err.message,
    'Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.a',
  );
  const ok = fm.apply(untracked, cm({ b: "2" }), { ...CM, manager: "newcomer", time: T1 });
  assert.equal(mf(ok).map((e) => [e.manager, e.operation, e.time]), [
    ["newcomer", "Apply", T1],
    ["before-first-apply", "Update", T1],
  ]);
});

test("managedFields sent by a client: honoured when valid, reset when empty, ignored when broken", () => {
  const live = stored(fm.update(undefined, cm({ a: "1" }), { ...CM, manager: "creator", time: T0 }));
  const custom: ManagedFieldsEntry[] = [{
    manager: "someone",
    operation: "Apply",
    apiVersion: "v1",
    time: "2024-05-01T12:00:00+02:00",
    fieldsType: "FieldsV1",
    fieldsV1: { "f:data": { "f:a": {} } },
  }];
  const honoured = fm.update(live, {
    ...structuredClone(live),
    metadata: { ...live.metadata, managedFields: custom },
  }, {
    ...CM,
    manager: "x",
    time: T1,
  });
  assert.equal(mf(honoured), [{ ...custom[0], time: "2024-05-01T10:00:00Z" }]);
  for (const reset of [[], [{}]]) {
    const cleared = fm.update(live, {
      ...structuredClone(live),
      metadata: { ...live.metadata, managedFields: reset },
    }, {
      ...CM,
      manager: "x",
      time: T1,
    });
    assert.is(cleared.metadata?.managedFields, undefined);
  }
  const broken = fm.update(live, {
    ...structuredClone(live),
    metadata: { ...live.metadata, managedFields: [{ manager: "m", operation: "Bogus", apiVersion: "v1" }] },
  }, { ...CM, manager: "x", time: T1 });
  assert.equal(mf(broken), mf(live));
  // A subresource write never takes managedFields from the request.
  const viaStatus = fm.update(live, {
    ...structuredClone(live),
    metadata: { ...live.metadata, managedFields: custom },
  }, {
    ...CM,
    subresource: "status",
    manager: "x",
    time: T1,
  });
  assert.equal(mf(viaStatus), mf(live));
  // An untracked object stays untracked through updates.
  const untracked = stored(cm({ a: "1" }));
  assert.is(
    fm.update(untracked, cm({ a: "2" }), { ...CM, manager: "x", time: T1 }).metadata?.managedFields,
    undefined,
  );
});

test("apply errors: wrong kind or version, managedFields in the body, bodies that do not fit the schema", () => {
  const noType = statusError(() => fm.apply(undefined, { metadata: { name: "c" } }, { ...CM, manager: "m" }));
  assert.equal([noType.code, noType.message], [400, "invalid object type: /, Kind="]);
  const wrongVersion = statusError(() =>
    fm.apply(undefined, { ...web(), apiVersion: "extensions/v1beta1" }, { ...DEPLOY, manager: "m" })
  );
  assert.equal([wrongVersion.code, wrongVersion.message], [
    400,
    "invalid object type: extensions/v1beta1, Kind=Deployment",
  ]);
  const withManaged = statusError(() =>
    fm.apply(undefined, { ...cm({}), metadata: { name: "c", managedFields: [] } }, { ...CM, manager: "m" })
  );
  assert.equal([withManaged.code, withManaged.message], [400, "metadata.managedFields must be nil"]);
  const badType = statusError(() =>
    fm.apply(undefined, web({ replicas: "two" }), { ...DEPLOY, manager: "m" })
  );
  assert.is(badType.code, 400, "a client's bad input is never a server error here");
  assert.is(
    badType.message,
    "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.replicas: expected numeric (int or float), got string",
  );
  const unknown = statusError(() => fm.apply(undefined, web({ bogus: true }), { ...DEPLOY, manager: "m" }));
  assert.match(unknown.message, /\.spec\.bogus: field not declared in schema$/);
});

test("request option checks and the manager taken from the User-Agent", () => {
  const missing = validateWriteOptions("apply", {})!;
  assert.is(missing.code, 422);
  assert.is(
    missing.message,
    'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
  );
  assert.equal(missing.details?.causes, [{
    reason: "FieldValueRequired",
    message: "Required value: is required for apply patch",
    field: "fieldManager",
  }]);
  assert.is(
    validateWriteOptions("create", { fieldManager: "x".repeat(129) })!.message,
    'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes',
  );
  assert.is(
    validateWriteOptions("patch", { fieldManager: "m", force: "true" })!.message,
    'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
  );
  assert.is(validateWriteOptions("apply", { fieldManager: "kubectl", force: "false" }), undefined);
  assert.is(managerFromUserAgent("kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0"), "kubectl");
  assert.is(
    managerFromUserAgent("kube-controller-manager/v1.33.0 (linux/amd64)/leader-election"),
    "kube-controller-manager",
  );
  assert.is(managerFromUserAgent("a\tb/1"), "ab");
  assert.is(managerFromUserAgent("x".repeat(200)).length, 128);
  assert.is(
    checkName({ metadata: {} }, "web")!.message,
    "the name of the object (web based on URL) was undeterminable: name must be provided",
  );
  assert.is(
    checkName({ metadata: { name: "other" } }, "web")!.message,
    "the name of the object (other) does not match the name on the URL (web)",
  );
});

test("more than ten update managers: the oldest merge into ancient-changes", () => {
  let obj = stored(
    fm.update(undefined, cm({ k0: "v" }), { ...CM, manager: "m0", time: "2024-01-01T00:00:00Z" }),
  );
  for (let i = 1; i <= 11; i++) {
    const data = { ...(obj as Obj).data, [`k${i}`]: "v" };
    obj = stored(fm.update(obj, { ...structuredClone(obj), data }, {
      ...CM,
      manager: `m${i}`,
      time: `2024-01-01T00:00:${String(i).padStart(2, "0")}Z`,
    }));
  }
  const managers = mf(obj).map((e) => e.manager);
  assert.is(managers.length, 10);
  assert.is(managers[0], "ancient-changes");
  assert.is(
    JSON.stringify(entry(obj, "ancient-changes")!.fieldsV1),
    '{"f:data":{".":{},"f:k0":{},"f:k1":{},"f:k2":{}}}',
  );
  assert.is(entry(obj, "ancient-changes")!.time, "2024-01-01T00:00:02Z");
});

test("scale writes own only spec.replicas, under the scale subresource", () => {
  const live = stored(
    fm.update(undefined, nginxDeployment(), { ...DEPLOY, manager: "kubectl-create", time: T0 }),
  );
  const next = structuredClone(live) as Obj;
  next.spec.replicas = 3;
  const scaled = fm.update(live, next, { ...DEPLOY, subresource: "scale", manager: "kubectl", time: T1 });
  assert.equal(entry(scaled, "kubectl"), {
    manager: "kubectl",
    operation: "Update",
    apiVersion: "apps/v1",
    fieldsType: "FieldsV1",
    fieldsV1: { "f:spec": { "f:replicas": {} } },
    subresource: "scale",
  });
  assert.not.ok("f:replicas" in (entry(scaled, "kubectl-create")!.fieldsV1 as Obj)["f:spec"]);
});

test("a Service created by kubectl expose: ports keyed by port and protocol, selector atomic", () => {
  const svc = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default", labels: { app: "web" } },
    spec: {
      ports: [{ port: 80, protocol: "TCP", targetPort: 8080 }],
      selector: { app: "web" },
      type: "ClusterIP",
      sessionAffinity: "None",
      internalTrafficPolicy: "Cluster",
    },
    status: { loadBalancer: {} },
  };
  const created = fm.update(undefined, svc, {
    group: "",
    version: "v1",
    kind: "Service",
    resource: "services",
    manager: "kubectl-expose",
    time: T0,
  });
  assert.is(
    JSON.stringify(mf(created)[0].fieldsV1),
    '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:internalTrafficPolicy":{},"f:ports":{".":{},' +
      '"k:{\\"port\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:port":{},"f:protocol":{},"f:targetPort":{}}},' +
      '"f:selector":{},"f:sessionAffinity":{},"f:type":{}}}',
  );
});

test("re-applying with creationTimestamp: null bumps only the time, which the storage check undoes", () => {
  const config = {
    ...cm({ key: "value" }),
    metadata: { name: "c", namespace: "default", creationTimestamp: null },
  };
  const first = stored(fm.apply(undefined, config, { ...CM, manager: "apply_test", time: T0 }));
  assert.equal(entry(first, "apply_test")!.fieldsV1, { "f:data": { "f:key": {} } });
  const second = fm.apply(first, config, { ...CM, manager: "apply_test", time: T1 }) as Obj;
  assert.is(entry(second, "apply_test")!.time, T1);
  // The strategy puts creationTimestamp back; then only the time differs.
  second.metadata.creationTimestamp = first.metadata!.creationTimestamp;
  assert.equal(ignoreManagedFieldsTimestamps(second, first), first);
  // A real change keeps the new time.
  const changed = { ...structuredClone(second), data: { key: "other" } };
  assert.is(entry(ignoreManagedFieldsTimestamps(changed, first), "apply_test")!.time, T1);
});

test("managedFields broken by admission are put back, with upstream's warning", () => {
  const obj = stored(fm.update(undefined, cm({ a: "1" }), { ...CM, manager: "creator", time: T0 }));
  const before = structuredClone(obj.metadata!.managedFields);
  obj.metadata!.managedFields = [{
    manager: "m",
    operation: "Oops",
    apiVersion: "v1",
    fieldsType: "FieldsV1",
  }];
  const warning = checkManagedFieldsAfterAdmission(obj, before);
  assert.is(
    warning,
    ".metadata.managedFields was in an invalid state after admission; this could be caused by an outdated " +
      "mutating admission controller; please fix your requests: operation must be `Apply` or `Update`",
  );
  assert.equal(obj.metadata!.managedFields, before);
  assert.is(checkManagedFieldsAfterAdmission(obj, before), undefined);
});

test("custom resources: a structural schema, or none at all (everything granular, lists atomic)", () => {
  const CR = { group: "example.com", version: "v1", kind: "Widget", resource: "widgets" };
  const schema = {
    type: "object" as const,
    properties: {
      spec: {
        type: "object" as const,
        properties: {
          size: { type: "integer" as const },
          parts: {
            type: "array" as const,
            listType: "map" as const,
            listMapKeys: ["id"],
            items: {
              type: "object" as const,
              properties: { id: { type: "string" as const }, n: { type: "integer" as const } },
            },
          },
        },
      },
      status: { type: "object" as const, properties: { ready: { type: "boolean" as const } } },
    },
  };
  const config = {
    apiVersion: "example.com/v1",
    kind: "Widget",
    metadata: { name: "w", namespace: "default" },
    spec: { size: 2, parts: [{ id: "a", n: 1 }] },
  };
  const created = fm.apply(undefined, config, {
    ...CR,
    schema,
    hasStatusSubresource: true,
    manager: "ctl",
    time: T0,
  });
  assert.equal(mf(created)[0].fieldsV1, {
    "f:spec": { "f:parts": { 'k:{"id":"a"}': { ".": {}, "f:id": {}, "f:n": {} } }, "f:size": {} },
  });
  const unknown = statusError(() =>
    fm.apply(undefined, { ...config, spec: { color: "red" } }, { ...CR, schema, manager: "ctl" })
  );
  assert.match(unknown.message, /\.spec\.color: field not declared in schema$/);
  const free = { type: "object" as const, preserveUnknownFields: true as const };
  const loose = fm.apply(undefined, { ...config, spec: { color: "red", tags: ["x"] } }, {
    ...CR,
    schema: free,
    manager: "ctl",
    time: T0,
  });
  assert.equal(mf(loose)[0].fieldsV1, { "f:spec": { ".": {}, "f:color": {}, "f:tags": {} } });
});

test.run();
