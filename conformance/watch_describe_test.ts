/**
 * `kubectl get pods -w` while another client changes pods, and `kubectl describe pod` with
 * its events.
 */

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { hasKubectl, KUBECTL, type ServerProcess, startServer } from "./harness.ts";

const t = suite("kubectl watch and describe");
let server: ServerProcess;

const pod = (name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { app: "w" } },
  spec: { containers: [{ name: "c", image: "busybox" }] },
});

async function post(path: string, body: unknown) {
  const res = await server.api(path, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

if (hasKubectl(KUBECTL.dispatcher)) {
  t.before(async () => {
    // No nodes: the pods these tests make stay Pending, as their expectations say.
    server = await startServer({ args: ["--nodes", "0"] });
  });
  t.after(async () => {
    await server?.cleanup();
  });

  t("get pods -w prints ADDED, MODIFIED and DELETED rows as another client changes pods", async () => {
    const proc = new Deno.Command(KUBECTL.dispatcher, {
      args: [
        "--kubeconfig",
        server.kubeconfig,
        "get",
        "pods",
        "-w",
        "--output-watch-events",
        "--request-timeout=30s",
      ],
      env: { HOME: await Deno.makeTempDir(), PATH: Deno.env.get("PATH") ?? "/usr/bin" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    const waitFor = async (re: RegExp) => {
      const deadline = Date.now() + 15_000;
      while (!re.test(out)) {
        if (Date.now() > deadline) throw new Error(`no ${re} in kubectl output:\n${out}`);
        const { value, done } = await Promise.race([
          reader.read(),
          new Promise<{ value: string; done: boolean }>((r) =>
            setTimeout(() => r({ value: "", done: false }), 500)
          ),
        ]);
        if (done) throw new Error(`kubectl ended:\n${out}`);
        out += value;
      }
    };
    // Let kubectl finish its list before changing anything.
    await new Promise((r) => setTimeout(r, 1500));
    await post("/api/v1/namespaces/default/pods", pod("watched"));
    await waitFor(/^ADDED\s+watched\s+0\/1\s+Pending\s+0\s+\S+$/m);
    await server.api("/api/v1/namespaces/default/pods/watched", {
      method: "PATCH",
      body: JSON.stringify({ metadata: { labels: { step: "two" } } }),
      headers: { "content-type": "application/merge-patch+json" },
    }).then((r) => r.body?.cancel());
    await waitFor(/^MODIFIED\s+watched\s+/m);
    await server.api("/api/v1/namespaces/default/pods/watched", { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );
    await waitFor(/^DELETED\s+watched\s+/m);
    proc.kill("SIGTERM");
    await reader.cancel().catch(() => {});
    await proc.status;
    await proc.stderr.cancel().catch(() => {});
  });

  t("describe pod shows the pod and its events", async () => {
    const created = await post("/api/v1/namespaces/default/pods", pod("described"));
    await post("/api/v1/namespaces/default/events", {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "described.1" },
      involvedObject: {
        kind: "Pod",
        namespace: "default",
        name: "described",
        uid: created.metadata.uid,
        apiVersion: "v1",
      },
      reason: "Scheduled",
      message: "Successfully assigned default/described to node-1",
      type: "Normal",
      source: { component: "default-scheduler" },
      firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      count: 1,
    });
    const r = await server.kubectl(["describe", "pod", "described"]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Name:\s+described$/m);
    assert.match(r.stdout, /^Status:\s+Pending$/m);
    assert.match(r.stdout, /^Events:/m);
    assert.match(
      r.stdout,
      /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/described to node-1/,
    );
  });

  t.run();
} else {
  console.log("skipping: kubectl is not installed");
}
