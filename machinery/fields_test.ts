import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  escapeFieldValue,
  fieldSelectorString,
  fieldsOf,
  matchesFields,
  parseFieldSelector,
  supportedFieldLabels,
  unescapeFieldValue,
  unsupportedFieldLabelMessage,
} from "./fields.ts";
import type { StatusError } from "./status.ts";

const is400 = (message: string) => (e: StatusError) => e.code === 400 && e.message === message;

test("terms parse with each operator, sorted as upstream sorts them", () => {
  assert.equal(parseFieldSelector("status.phase!=Running,metadata.name==web,spec.nodeName=n1").requirements, [
    { field: "metadata.name", operator: "==", value: "web" },
    { field: "spec.nodeName", operator: "=", value: "n1" },
    { field: "status.phase", operator: "!=", value: "Running" },
  ]);
  assert.equal(parseFieldSelector("").requirements, []);
  assert.equal(parseFieldSelector("a=b,,").requirements, [{ field: "a", operator: "=", value: "b" }]);
  assert.equal(parseFieldSelector("spec.nodeName=").requirements, [{
    field: "spec.nodeName",
    operator: "=",
    value: "",
  }]);
  // The field name is taken as written.
  assert.equal(parseFieldSelector(" a =b").requirements, [{ field: " a ", operator: "=", value: "b" }]);
});

test("values undo \\, \\= and \\\\ escapes", () => {
  assert.equal(parseFieldSelector("metadata.name=a\\,b,x=c\\=d\\\\").requirements, [
    { field: "metadata.name", operator: "=", value: "a,b" },
    { field: "x", operator: "=", value: "c=d\\" },
  ]);
  assert.is(unescapeFieldValue("plain"), "plain");
  assert.is(escapeFieldValue("a,b=c\\"), "a\\,b\\=c\\\\");
  assert.is(unescapeFieldValue(escapeFieldValue("a,b=c\\")), "a,b=c\\");
  assert.is(fieldSelectorString(parseFieldSelector("x=a\\,b,y!=c")), "x=a\\,b,y!=c");
});

test("bad selectors are 400s with upstream's wording", () => {
  assert.throws(
    () => parseFieldSelector("nonsense"),
    is400("invalid selector: 'nonsense'; can't understand 'nonsense'"),
  );
  assert.throws(() => parseFieldSelector("a=b,c"), is400("invalid selector: 'a=b,c'; can't understand 'c'"));
  assert.throws(
    () => parseFieldSelector("a=b=c"),
    is400("invalid field selector: unescaped character in value: 61"),
  );
  assert.throws(
    () => parseFieldSelector("a=b\\c"),
    is400("invalid field selector: invalid escape sequence: \\c"),
  );
  assert.throws(
    () => parseFieldSelector("a=b\\"),
    is400("invalid field selector: invalid escape sequence: \\"),
  );
});

test("matching: absent fields read as empty", () => {
  const fields = { "metadata.name": "web", "status.phase": "" };
  assert.ok(matchesFields(parseFieldSelector("metadata.name=web"), fields));
  assert.ok(matchesFields(parseFieldSelector("metadata.name==web,status.phase="), fields));
  assert.not.ok(matchesFields(parseFieldSelector("metadata.name!=web"), fields));
  assert.ok(matchesFields(parseFieldSelector("spec.nodeName="), fields));
  assert.ok(matchesFields(parseFieldSelector("spec.nodeName!=n1"), fields));
  assert.not.ok(matchesFields(parseFieldSelector("constructor=x"), fields));
  assert.ok(matchesFields(parseFieldSelector(""), fields));
});

test("pod fields", () => {
  const pod = {
    metadata: { name: "p", namespace: "d" },
    spec: {
      nodeName: "n1",
      restartPolicy: "Always",
      schedulerName: "default-scheduler",
      serviceAccountName: "sa",
    },
    status: { phase: "Running", podIP: "10.0.0.1", podIPs: [{ ip: "10.0.0.1" }, { ip: "fd00::1" }] },
  };
  const f = fieldsOf("", "pods", pod);
  assert.equal(f, {
    "metadata.name": "p",
    "metadata.namespace": "d",
    "spec.nodeName": "n1",
    "spec.host": "n1",
    "spec.restartPolicy": "Always",
    "spec.schedulerName": "default-scheduler",
    "spec.serviceAccountName": "sa",
    "spec.hostNetwork": "false",
    "status.phase": "Running",
    "status.podIP": "10.0.0.1",
    "status.nominatedNodeName": "",
  });
  assert.is(fieldsOf("", "pods", { spec: { hostNetwork: true } })["spec.hostNetwork"], "true");
  assert.ok(
    matchesFields(parseFieldSelector("spec.nodeName=,status.phase!=Failed"), fieldsOf("", "pods", {})),
  );
  const supported = supportedFieldLabels("", "pods");
  for (const label of Object.keys(f)) assert.ok(supported.has(label), label);
  assert.ok(supported.has("status.podIPs"));
  assert.not.ok(supported.has("spec.containers"));
});

test("core and events.k8s.io events share field names", () => {
  const core = {
    metadata: { name: "e", namespace: "d" },
    involvedObject: {
      kind: "Pod",
      namespace: "d",
      name: "p",
      uid: "u1",
      apiVersion: "v1",
      resourceVersion: "7",
      fieldPath: "spec.containers{c}",
    },
    reason: "Pulled",
    reportingComponent: "kubelet",
    source: { component: "kubelet", host: "n1" },
    type: "Normal",
  };
  const f = fieldsOf("", "events", core);
  assert.is(f["involvedObject.kind"], "Pod");
  assert.is(f["involvedObject.uid"], "u1");
  assert.is(f["involvedObject.fieldPath"], "spec.containers{c}");
  assert.is(f["involvedObject.resourceVersion"], "7");
  assert.is(f["reason"], "Pulled");
  assert.is(f["reportingComponent"], "kubelet");
  assert.is(f["source"], "kubelet");
  assert.is(f["type"], "Normal");
  const modern = {
    metadata: { name: "e", namespace: "d" },
    regarding: { kind: "Node", name: "n1" },
    reason: "Ready",
    reportingController: "node-controller",
    type: "Normal",
  };
  const g = fieldsOf("events.k8s.io", "events", modern);
  assert.is(g["involvedObject.kind"], "Node");
  assert.is(g["involvedObject.namespace"], "");
  assert.is(g["reportingComponent"], "node-controller");
  assert.is(g["source"], "node-controller");
  assert.equal(supportedFieldLabels("events.k8s.io", "events"), supportedFieldLabels("", "events"));
  assert.is(supportedFieldLabels("", "events").size, 13);
});

test("other kinds' own fields", () => {
  assert.is(fieldsOf("", "secrets", { type: "Opaque" })["type"], "Opaque");
  assert.is(fieldsOf("", "namespaces", { status: { phase: "Active" } })["status.phase"], "Active");
  assert.is(fieldsOf("", "nodes", { spec: { unschedulable: true } })["spec.unschedulable"], "true");
  assert.is(fieldsOf("", "nodes", { spec: {} })["spec.unschedulable"], "false");
  assert.is(fieldsOf("", "replicationcontrollers", { status: { replicas: 3 } })["status.replicas"], "3");
  assert.is(fieldsOf("apps", "replicasets", {})["status.replicas"], "0");
  assert.is(fieldsOf("batch", "jobs", { status: { succeeded: 2 } })["status.successful"], "2");
  assert.is(
    fieldsOf("certificates.k8s.io", "certificatesigningrequests", {
      spec: { signerName: "kubernetes.io/kubelet-serving" },
    })[
      "spec.signerName"
    ],
    "kubernetes.io/kubelet-serving",
  );
  assert.is(
    fieldsOf("", "services", { spec: { clusterIP: "None", type: "ClusterIP" } })["spec.clusterIP"],
    "None",
  );
  assert.equal(fieldsOf("", "configmaps", { metadata: { name: "c", namespace: "d" }, data: {} }), {
    "metadata.name": "c",
    "metadata.namespace": "d",
  });
});

test("supported labels follow upstream's conversions", () => {
  assert.equal([...supportedFieldLabels("", "configmaps")], ["metadata.name", "metadata.namespace"]);
  assert.equal([...supportedFieldLabels("apps", "deployments")], ["metadata.name", "metadata.namespace"]);
  assert.equal([...supportedFieldLabels("", "nodes")], ["metadata.name", "spec.unschedulable"]);
  assert.equal([...supportedFieldLabels("", "namespaces")], ["metadata.name", "status.phase"]);
  assert.equal([...supportedFieldLabels("", "secrets")], ["metadata.name", "metadata.namespace", "type"]);
  assert.equal(
    [...supportedFieldLabels("certificates.k8s.io", "certificatesigningrequests")],
    ["metadata.name", "spec.signerName"],
  );
  assert.ok(supportedFieldLabels("batch", "jobs").has("status.successful"));
  assert.ok(supportedFieldLabels("", "services").has("spec.type"));
  assert.is(unsupportedFieldLabelMessage("", "pods", "spec.foo"), "field label not supported: spec.foo");
  assert.is(
    unsupportedFieldLabelMessage("batch", "jobs", "x"),
    `field label "x" not supported for batchv1.Job`,
  );
});

test.run();
