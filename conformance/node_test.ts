/**
 * A real node, driven by real kubectl against `kubedeno up` (which starts one node): the Node it
 * registers, pods that run as processes (Completed, CrashLoopBackOff, ImagePullBackOff), their
 * logs through the API server (`logs`, `-f`, `--tail`, `--timestamps`, `--previous`, `-c`), the
 * environment a container gets, and deletion stopping the processes.
 */

import * as https from "node:https";
import { PassThrough, Writable } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { hasKubectl, processesWith, type ServerProcess, startServer, until } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const t = suite("a real node");
let server: ServerProcess;

const kubectl = (args: string[], stdin?: string) => server.kubectlOk(args, stdin);
const getJson = (args: string[]): Promise<Json> => server.getJson(args);
const hasBusybox = await Deno.stat("/bin/busybox").then(() => true, () => false);

/** Waits until the pod's phase or first container's state reason is `want`. */
function podReaches(name: string, want: string, timeoutMs = 20_000): Promise<Json> {
  return until(`pod ${name} to reach ${want}`, async () => {
    const pod = await getJson(["pod", name]);
    const state = pod.status?.containerStatuses?.[0]?.state ?? {};
    const reason = state.waiting?.reason ?? state.terminated?.reason;
    return pod.status?.phase === want || reason === want ? pod : undefined;
  }, timeoutMs);
}

/** How many processes run with `marker` in their command line. */

if (!hasKubectl()) {
  console.log("skipping the real node: kubectl is not installed");
} else if (!hasBusybox) {
  console.log("skipping the real node: /bin/busybox (Debian busybox-static) is not installed");
} else {
  t.before(async () => {
    server = await startServer();
  });
  t.after(async () => {
    await server?.cleanup();
  });

  t("up registers one Ready node with the host's capacity and renews its Lease", async () => {
    const nodes = await until(
      "a node",
      async () => (await getJson(["nodes"])).items.length > 0 && getJson(["nodes"]),
    );
    assert.is(nodes.items.length, 1);
    const node = nodes.items[0];
    const ready = node.status.conditions.find((c: Json) => c.type === "Ready");
    assert.is(ready.status, "True");
    assert.is(node.status.capacity.cpu, String(navigator.hardwareConcurrency));
    const memKi = Math.floor(Deno.systemMemoryInfo().total / 1024);
    assert.is(node.status.capacity.memory, `${memKi}Ki`);
    assert.is(node.status.capacity.pods, "110");
    assert.match(node.status.capacity["ephemeral-storage"], /^\d+Ki$/);
    assert.is(node.status.nodeInfo.kubeletVersion, "v1.33.0");
    assert.is(node.status.nodeInfo.kernelVersion, Deno.osRelease());
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^process:\/\//);
    assert.ok(node.status.daemonEndpoints.kubeletEndpoint.Port > 0);
    const lease = await getJson(["lease", "-n", "kube-node-lease", node.metadata.name]);
    assert.is(lease.spec.holderIdentity, node.metadata.name);
    assert.ok(Date.now() - Date.parse(lease.spec.renewTime) < 15_000);
  });

  t("kubectl run … --restart=Never ends Completed and kubectl logs prints its output", async () => {
    await kubectl([
      "run",
      "hello",
      "--image=busybox",
      "--restart=Never",
      "--",
      "sh",
      "-c",
      "echo hello; sleep 1",
    ]);
    const pod = await podReaches("hello", "Succeeded");
    const c = pod.status.containerStatuses[0];
    assert.is(c.state.terminated.reason, "Completed");
    assert.is(c.state.terminated.exitCode, 0);
    assert.is(pod.status.conditions.find((x: Json) => x.type === "Ready").reason, "PodCompleted");
    assert.match(await kubectl(["get", "pod", "hello"]), /hello\s+0\/1\s+Completed\s+0/);
    assert.is(await kubectl(["logs", "hello"]), "hello\n");
    const events = await until("kubelet's events for hello", async () => {
      const list = await getJson(["events", "--field-selector", "involvedObject.name=hello"]);
      const reasons = list.items.map((e: Json) => e.reason);
      return ["Scheduled", "Pulled", "Created", "Started"].every((r) => reasons.includes(r)) && list.items;
    });
    const started = events.find((e: Json) => e.reason === "Started");
    assert.is(started.message, "Started container hello");
    assert.is(started.source.component, "kubelet");
    const stamped = await kubectl(["logs", "hello", "--timestamps"]);
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z hello\n$/);
  });

  t("logs -f follows a running container to its end; --tail keeps the last lines", async () => {
    await kubectl([
      "run",
      "counter",
      "--image=busybox",
      "--restart=Never",
      "--",
      "sh",
      "-c",
      "sleep 1; for i in 1 2 3 4; do echo line $i; sleep 0.3; done",
    ]);
    await podReaches("counter", "Running");
    assert.is(await kubectl(["logs", "-f", "counter"]), "line 1\nline 2\nline 3\nline 4\n");
    await podReaches("counter", "Succeeded");
    assert.is(await kubectl(["logs", "counter", "--tail=2"]), "line 3\nline 4\n");
  });

  t(
    "a container that keeps failing goes into CrashLoopBackOff; --previous shows the run before",
    async () => {
      await kubectl([
        "run",
        "crash",
        "--image=busybox",
        "--",
        "sh",
        "-c",
        // Each run prints its shell's pid, so the two runs' logs differ.
        "echo run $$; exit 2",
      ]);
      const pod = await podReaches("crash", "CrashLoopBackOff");
      const c = pod.status.containerStatuses[0];
      assert.ok(c.restartCount >= 1);
      assert.is(c.lastState.terminated.exitCode, 2);
      assert.is(c.lastState.terminated.reason, "Error");
      assert.match(
        c.state.waiting.message,
        /^back-off 10s restarting failed container=crash pod=crash_default\(/,
      );
      assert.match(await kubectl(["get", "pod", "crash"]), /crash\s+0\/1\s+CrashLoopBackOff\s+1 \(\S+ ago\)/);
      const previous = await kubectl(["logs", "crash", "--previous"]);
      const latest = await kubectl(["logs", "crash"]);
      assert.match(previous, /^run \d+\n$/);
      assert.match(latest, /^run \d+\n$/);
      assert.is.not(previous, latest);
    },
  );

  t("an image outside the node's catalog is refused, saying how to add it", async () => {
    await kubectl(["run", "web", "--image=nginx:1.27"]);
    const pod = await until("an image pull failure", async () => {
      const p = await getJson(["pod", "web"]);
      const reason = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      return (reason === "ErrImagePull" || reason === "ImagePullBackOff") && p;
    });
    assert.match(pod.status.containerStatuses[0].state.waiting.message, /not in this node's image catalog/);
    await kubectl(["delete", "pod", "web", "--wait=true"]);
  });

  t("containers get their env, envFrom, field references and the API server's address", async () => {
    await kubectl(["create", "configmap", "settings", "--from-literal=COLOR=blue"]);
    await kubectl(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "envy", labels: { app: "envy" } },
        spec: {
          restartPolicy: "Never",
          containers: [{
            name: "c",
            image: "busybox",
            command: ["sh", "-c", 'echo "$GREETING $COLOR $MY_POD $MY_NS $LABEL $KUBERNETES_SERVICE_PORT"'],
            env: [
              { name: "WHO", value: "world" },
              { name: "GREETING", value: "hello-$(WHO)" },
              { name: "MY_POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "MY_NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
              { name: "LABEL", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
            ],
            envFrom: [{ configMapRef: { name: "settings" } }],
          }],
        },
      }),
    );
    await podReaches("envy", "Succeeded");
    assert.is(await kubectl(["logs", "envy"]), `hello-world blue envy default envy ${server.port}\n`);
  });

  t(
    "a pod with two containers: the API asks which, kubectl defaults to the first, -c picks one",
    async () => {
      await kubectl(
        ["apply", "-f", "-"],
        JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "pair" },
          spec: {
            restartPolicy: "Never",
            containers: [
              { name: "left", image: "busybox", command: ["echo", "from left"] },
              { name: "right", image: "busybox", command: ["echo", "from right"] },
            ],
          },
        }),
      );
      await podReaches("pair", "Succeeded");
      // The API asks which container; kubectl answers for the user with the first one.
      const res = await server.api("/api/v1/namespaces/default/pods/pair/log");
      assert.is(res.status, 400);
      const status = await res.json();
      assert.is(status.reason, "BadRequest");
      assert.is(
        status.message,
        "a container name must be specified for pod pair, choose one of: [left right]",
      );
      const r = await server.kubectl(["logs", "pair"]);
      assert.is(r.stdout, "from left\n");
      assert.match(r.stderr, /Defaulted container "left" out of: left, right/);
      assert.is(await kubectl(["logs", "pair", "-c", "right"]), "from right\n");
    },
  );

  t("the node's own endpoints take only callers the API server authorizes", async () => {
    const node = (await getJson(["nodes"])).items[0];
    const port = node.status.daemonEndpoints.kubeletEndpoint.Port;
    // The node's serving certificate is its own (self-signed), as kubelet's is by default.
    const get = (token?: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = https.request({
          host: "127.0.0.1",
          port,
          path: "/containerLogs/default/hello/hello",
          headers: token ? { authorization: `Bearer ${token}` } : {},
          rejectUnauthorized: false,
        }, (res) => {
          let text = "";
          res.on("data", (chunk) => text += chunk);
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on("error", reject);
        req.end();
      });
    assert.is((await get()).status, 401);
    assert.is((await get("not-a-token")).status, 403);
    assert.equal(await get(server.token), { status: 200, text: "hello\n" });
  });

  t(
    "exec runs in the container: stdout, stderr, exit codes, stdin; one pod reaches another's IP",
    async () => {
      await kubectl([
        "run",
        "web",
        "--image=busybox",
        "--",
        "sh",
        "-c",
        "echo page > index.html; exec httpd -f -p 18080",
      ]);
      await kubectl(["run", "client", "--image=busybox", "--", "sleep", "3600"]);
      const web = await podReaches("web", "Running");
      await podReaches("client", "Running");
      const r = await server.kubectl(["exec", "client", "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
      assert.is(r.code, 3);
      assert.is(r.stdout, "out\n");
      assert.match(r.stderr, /^err\n/);
      assert.match(r.stderr, /command terminated with exit code 3/);
      assert.is(await kubectl(["exec", "-i", "client", "--", "cat"], "from stdin"), "from stdin");
      const page = await until("the web pod to answer", async () => {
        const got = await server.kubectl([
          "exec",
          "client",
          "--",
          "wget",
          "-qO-",
          `http://${web.status.podIP}:18080/`,
        ]);
        return got.code === 0 && got.stdout;
      });
      assert.is(page, "page\n");
      if (Deno.uid() === 0) assert.is(await kubectl(["exec", "client", "--", "hostname"]), "client\n");
      const missing = await server.kubectl(["exec", "client", "--", "no-such-command"]);
      assert.is.not(missing.code, 0);
      assert.match(missing.stderr, /"no-such-command": executable file not found in \$PATH/);
    },
  );

  t("port-forward reaches the pod: a page and a 3 MB file through it, intact", async () => {
    await podReaches("web", "Running");
    const big = crypto.getRandomValues(new Uint8Array(65536));
    const dir = await Deno.makeTempDir();
    const forward = new Deno.Command("kubectl", {
      args: ["port-forward", "pod/web", ":18080"],
      env: { KUBECONFIG: server.kubeconfig },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      const payload = new Uint8Array(3 * 2 ** 20);
      for (let i = 0; i < payload.length; i += big.length) {
        payload.set(big.subarray(0, payload.length - i), i);
      }
      await Deno.writeFile(`${dir}/big.bin`, payload);
      await kubectl(["cp", `${dir}/big.bin`, "web:big.bin"]);
      // kubectl prints the local port it chose.
      const reader = forward.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let printed = "";
      while (!/127\.0\.0\.1:(\d+)/.test(printed)) printed += (await reader.read()).value ?? "";
      const local = /127\.0\.0\.1:(\d+)/.exec(printed)![1];
      const page = await (await fetch(`http://127.0.0.1:${local}/`)).text();
      assert.is(page, "page\n");
      const got = new Uint8Array(await (await fetch(`http://127.0.0.1:${local}/big.bin`)).arrayBuffer());
      assert.is(got.length, payload.length);
      assert.ok(got.every((b, i) => b === payload[i]), "the file came through intact");
      reader.releaseLock();
    } finally {
      forward.kill("SIGTERM");
      await forward.status;
      await forward.stdout.cancel().catch(() => {});
      await forward.stderr.cancel().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  });

  t("cp copies files into and out of a container (tar through exec)", async () => {
    await podReaches("client", "Running");
    const dir = await Deno.makeTempDir();
    try {
      const text = `payload ${Date.now()}\n`;
      await Deno.writeTextFile(`${dir}/in.txt`, text);
      await kubectl(["cp", `${dir}/in.txt`, "client:copied.txt"]);
      assert.is(await kubectl(["exec", "client", "--", "cat", "copied.txt"]), text);
      await kubectl(["cp", "client:copied.txt", `${dir}/out.txt`]);
      assert.is(await Deno.readTextFile(`${dir}/out.txt`), text);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  t(
    "client-node's Exec, Log, PortForward, Attach and Cp (from a pod) helpers work against pods",
    async () => {
      await podReaches("client", "Running");
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(server.kubeconfig);
      const sink = () => {
        const chunks: string[] = [];
        return {
          stream: new Writable({ write: (c, _e, cb) => void (chunks.push(String(c)), cb()) }),
          text: () => chunks.join(""),
        };
      };
      const out = sink();
      const err = sink();
      const status = await new Promise<k8s.V1Status>((resolve, reject) => {
        new k8s.Exec(kc).exec(
          "default",
          "client",
          "client",
          ["sh", "-c", "echo out; echo err >&2; exit 2"],
          out.stream,
          err.stream,
          null,
          false,
          resolve,
        )
          .catch(reject);
      });
      assert.is(status.status, "Failure");
      assert.is(status.reason, "NonZeroExitCode");
      assert.equal(status.details?.causes, [{ reason: "ExitCode", message: "2" }]);
      assert.is(out.text(), "out\n");
      assert.is(err.text(), "err\n");
      const logs = sink();
      await new k8s.Log(kc).log("default", "hello", "hello", logs.stream, { follow: false });
      await until("the log", () => Promise.resolve(logs.text() === "hello\n"));
      // PortForward speaks the older channel protocol (v4.channel.k8s.io) over one WebSocket.
      const answer = sink();
      const input = new PassThrough();
      const socket = await new k8s.PortForward(kc).portForward(
        "default",
        "web",
        [18080],
        answer.stream,
        null,
        input,
      );
      input.write("GET / HTTP/1.0\r\n\r\n");
      await until(
        "the page through PortForward",
        () => Promise.resolve(answer.text().endsWith("\r\n\r\npage\n")),
      );
      assert.match(answer.text(), /^HTTP\/1\.[01] 200/);
      (socket as unknown as { close(): void }).close();
      // Attach to a container that reads its stdin.
      await kubectl([
        "run",
        "echoer",
        "--image=busybox",
        "--stdin",
        "--",
        "sh",
        "-c",
        "while read l; do echo got $l; done",
      ]);
      await podReaches("echoer", "Running");
      const echoed = sink();
      const stdin = new PassThrough();
      const attached = await new k8s.Attach(kc).attach(
        "default",
        "echoer",
        "echoer",
        echoed.stream,
        null,
        stdin,
        false,
      );
      stdin.write("hello\n");
      await until("the echo through Attach", () => Promise.resolve(echoed.text() === "got hello\n"));
      (attached as unknown as { close(): void }).close();
      // Cp from a pod (tar through exec).
      const into = await Deno.makeTempDir();
      try {
        await kubectl(["exec", "client", "--", "sh", "-c", "echo copied-out > out.txt"]);
        await new k8s.Cp(kc).cpFromPod("default", "client", "client", "out.txt", into);
        const copied = await until(
          "the copied file",
          () => Deno.readTextFile(`${into}/out.txt`).catch(() => ""),
        );
        assert.is(copied, "copied-out\n");
      } finally {
        await Deno.remove(into, { recursive: true });
      }
    },
  );

  t("exec -it gives a shell on a terminal (driven through tmux)", async () => {
    const hasTmux = await Deno.stat("/usr/bin/tmux").then(() => true, () => false);
    if (!hasTmux) return console.log("skipped: tmux is not installed");
    await podReaches("client", "Running");
    const session = `kubedeno-${Date.now()}`;
    const tmux = (...args: string[]) =>
      new Deno.Command("tmux", { args, env: { KUBECONFIG: server.kubeconfig } }).output();
    await tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "20", `kubectl exec -it client -- sh`);
    try {
      await until("the shell's prompt", async () => {
        const out = await tmux("capture-pane", "-p", "-t", session);
        return new TextDecoder().decode(out.stdout).includes("#") ||
          new TextDecoder().decode(out.stdout).includes("$");
      });
      await tmux("send-keys", "-t", session, "tty; echo answer=$((6*7))", "Enter");
      const screen = await until("the command's output", async () => {
        const text = new TextDecoder().decode((await tmux("capture-pane", "-p", "-t", session)).stdout);
        return text.includes("answer=42") && text;
      });
      assert.match(screen, /\/dev\/pts\/\d+/);
    } finally {
      await tmux("kill-session", "-t", session);
    }
  });

  t(
    "run -i --rm attaches stdin, passes the exit code and removes the pod; attach follows output",
    async () => {
      const r = await server.kubectl(
        ["run", "once", "-i", "--rm", "--restart=Never", "--image=busybox", "--", "sh"],
        { stdin: "echo hello-from-stdin; exit 3\n" },
      );
      assert.is(r.code, 3);
      assert.match(r.stdout, /hello-from-stdin\n/);
      assert.match(r.stdout, /pod "once" deleted/);
      await until("the pod gone", async () => (await server.kubectl(["get", "pod", "once"])).code !== 0);
      await kubectl([
        "run",
        "ticker",
        "--image=busybox",
        "--",
        "sh",
        "-c",
        "while true; do echo tick; sleep 0.2; done",
      ]);
      await podReaches("ticker", "Running");
      const attach = new Deno.Command("kubectl", {
        args: ["attach", "ticker"],
        env: { KUBECONFIG: server.kubeconfig },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      setTimeout(() => attach.kill("SIGTERM"), 2000);
      const out = new TextDecoder().decode((await attach.output()).stdout);
      assert.match(out, /tick\ntick\n/);
    },
  );

  t("run -it --rm gives a shell on a terminal (driven through tmux), then removes the pod", async () => {
    const hasTmux = await Deno.stat("/usr/bin/tmux").then(() => true, () => false);
    if (!hasTmux) return console.log("skipped: tmux is not installed");
    const session = `kubedeno-run-${Date.now()}`;
    const tmux = (...args: string[]) =>
      new Deno.Command("tmux", { args, env: { KUBECONFIG: server.kubeconfig } }).output();
    await tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "120",
      "-y",
      "20",
      "kubectl run -it --rm shell --image=busybox --restart=Never -- sh; echo kubectl-exit=$?; sleep 60",
    );
    try {
      const screen = () =>
        tmux("capture-pane", "-p", "-t", session).then((o) => new TextDecoder().decode(o.stdout));
      await until("the attach", async () => (await screen()).includes("If you don't see a command prompt"));
      await tmux("send-keys", "-t", session, "tty; echo answer=$((6*7)); exit 5", "Enter");
      const text = await until("the session to end", async () => {
        const t = await screen();
        return t.includes("kubectl-exit=") && t;
      });
      assert.match(text, /\/dev\/pts\/\d+/);
      assert.match(text, /answer=42/);
      assert.match(text, /kubectl-exit=5/);
      await until("the pod gone", async () => (await server.kubectl(["get", "pod", "shell"])).code !== 0);
    } finally {
      await tmux("kill-session", "-t", session);
    }
  });

  t("readiness gates the pod's Endpoints; a failing liveness probe restarts the container", async () => {
    await kubectl(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "probed", labels: { app: "probed" } },
        spec: {
          containers: [{
            name: "web",
            image: "busybox",
            command: ["sh", "-c", "sleep 2; echo ok > index.html; exec httpd -f -p 18081"],
            ports: [{ name: "http", containerPort: 18081 }],
            readinessProbe: { httpGet: { path: "/index.html", port: "http" }, periodSeconds: 1 },
          }, {
            name: "liver",
            image: "busybox",
            command: ["sh", "-c", "touch alive; sleep 3; rm alive; sleep 3600"],
            livenessProbe: { exec: { command: ["cat", "alive"] }, periodSeconds: 1, failureThreshold: 2 },
          }],
        },
      }),
    );
    await kubectl(["create", "service", "clusterip", "probed", "--tcp=18081:18081"]);
    const addresses = async () => {
      const ep = await getJson(["endpoints", "probed"]);
      const s = ep.subsets?.[0] ?? {};
      return { ready: (s.addresses ?? []).length, notReady: (s.notReadyAddresses ?? []).length };
    };
    await until("the pod listed as not ready", async () => (await addresses()).notReady === 1);
    await until("the pod listed as ready", async () => (await addresses()).ready === 1);
    const pod = await until("the liveness restart", async () => {
      const p = await getJson(["pod", "probed"]);
      const liver = p.status.containerStatuses.find((c: Json) => c.name === "liver");
      return liver.restartCount >= 1 && p;
    });
    const web = pod.status.containerStatuses.find((c: Json) => c.name === "web");
    assert.is(web.ready, true);
    const events = await until("the probe events", async () => {
      const list = await getJson(["events", "--field-selector", "involvedObject.name=probed"]);
      const messages = list.items.map((e: Json) => `${e.reason}: ${e.message}`);
      return messages.some((m: string) => m.startsWith("Killing: Container liver failed liveness probe")) &&
        messages;
    });
    assert.ok(
      events.some((m: string) => /^Unhealthy: Liveness probe failed: cat: can't open 'alive'/.test(m)),
    );
    assert.ok(
      events.some((m: string) =>
        /^Unhealthy: Readiness probe failed: Get "http:\/\/[\d.]+:18081\/index.html"/.test(m)
      ),
    );
  });

  t(
    "volumes: configMap (refreshed when it changes), emptyDir shared by two containers, downward API",
    async () => {
      if (Deno.uid() !== 0) return console.log("skipped: mounting volumes at their mountPath needs root");
      await kubectl(["create", "configmap", "vol-settings", "--from-literal=color=blue"]);
      const mountRoot = `/kubedeno-test-${Date.now()}`;
      await kubectl(
        ["apply", "-f", "-"],
        JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "vols", labels: { app: "vols" } },
          spec: {
            volumes: [
              { name: "cfg", configMap: { name: "vol-settings" } },
              { name: "shared", emptyDir: {} },
              {
                name: "info",
                downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] },
              },
            ],
            containers: [{
              name: "writer",
              image: "busybox",
              command: ["sh", "-c", `echo from-writer > ${mountRoot}/shared/note; sleep 3600`],
              volumeMounts: [{ name: "shared", mountPath: `${mountRoot}/shared` }],
            }, {
              name: "reader",
              image: "busybox",
              command: ["sleep", "3600"],
              volumeMounts: [
                { name: "cfg", mountPath: `${mountRoot}/config`, readOnly: true },
                { name: "shared", mountPath: `${mountRoot}/shared` },
                { name: "info", mountPath: `${mountRoot}/info` },
              ],
            }],
          },
        }),
      );
      try {
        await podReaches("vols", "Running");
        const read = (path: string) => kubectl(["exec", "vols", "-c", "reader", "--", "cat", path]);
        assert.is(await read(`${mountRoot}/config/color`), "blue");
        assert.is(
          await until("the writer's note", () => read(`${mountRoot}/shared/note`).catch(() => "")),
          "from-writer\n",
        );
        assert.is(await read(`${mountRoot}/info/labels`), 'app="vols"');
        const write = await server.kubectl([
          "exec",
          "vols",
          "-c",
          "reader",
          "--",
          "touch",
          `${mountRoot}/config/x`,
        ]);
        assert.match(write.stderr, /Read-only file system/);
        // Outside the container the mount is not there: the host's directory stays empty.
        assert.equal([...Deno.readDirSync(`${mountRoot}/config`)], []);
        await kubectl([
          "patch",
          "configmap",
          "vol-settings",
          "-p",
          JSON.stringify({ data: { color: "red" } }),
        ]);
        await until(
          "the new value in the volume",
          async () => (await read(`${mountRoot}/config/color`)) === "red",
        );
      } finally {
        await kubectl(["delete", "pod", "vols", "--wait=true"]);
        await Deno.remove(mountRoot, { recursive: true }).catch(() => {});
      }
    },
  );

  t(
    "postStart runs after the start; deletion runs preStop before SIGTERM, within the grace period",
    async () => {
      await kubectl(
        ["apply", "-f", "-"],
        JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "hooked" },
          spec: {
            terminationGracePeriodSeconds: 5,
            containers: [{
              name: "c",
              image: "busybox",
              command: [
                "sh",
                "-c",
                "trap 'echo got TERM after $(cat stopping); exit 0' TERM; while true; do sleep 0.1; done",
              ],
              lifecycle: {
                postStart: { exec: { command: ["sh", "-c", "echo started > poststart"] } },
                preStop: { exec: { command: ["sh", "-c", "echo prestop > stopping; sleep 1"] } },
              },
            }],
          },
        }),
      );
      await podReaches("hooked", "Running");
      assert.is(
        await until(
          "the postStart hook's file",
          () => kubectl(["exec", "hooked", "--", "cat", "poststart"]).catch(() => ""),
        ),
        "started\n",
      );
      // Follow the log while deleting: the container's TERM handler reports what preStop left.
      const follow = new Deno.Command("kubectl", {
        args: ["logs", "-f", "hooked"],
        env: { KUBECONFIG: server.kubeconfig },
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const t0 = Date.now();
      await kubectl(["delete", "pod", "hooked", "--wait=true", "--timeout=20s"]);
      const took = Date.now() - t0;
      const logged = new TextDecoder().decode((await follow.output()).stdout);
      assert.match(logged, /got TERM after prestop/);
      assert.ok(took >= 1000 && took < 5000, `deletion took ${took} ms`);
    },
  );

  t("limits through cgroups: a memory hog is OOMKilled, a CPU limit throttles", async () => {
    const cgroupV1 = await Deno.stat("/sys/fs/cgroup/memory/cgroup.procs").then(() => true, () => false);
    if (Deno.uid() !== 0 || !cgroupV1) return console.log("skipped: needs root and cgroup v1 controllers");
    await kubectl(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [{
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "hog" },
          spec: {
            restartPolicy: "Never",
            containers: [{
              name: "hog",
              image: "busybox",
              command: ["tail", "/dev/zero"],
              resources: { limits: { memory: "50Mi" } },
            }],
          },
        }, {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "spin" },
          spec: {
            containers: [{
              name: "spin",
              image: "busybox",
              command: ["sh", "-c", "while true; do :; done"],
              resources: { limits: { cpu: "200m" } },
            }],
          },
        }],
      }),
    );
    const hog = await podReaches("hog", "OOMKilled");
    assert.is(hog.status.containerStatuses[0].state.terminated.exitCode, 137);
    assert.is(hog.status.phase, "Failed");
    assert.match(await kubectl(["get", "pod", "hog"]), /hog\s+0\/1\s+OOMKilled/);
    const spin = await podReaches("spin", "Running");
    const dir = `/sys/fs/cgroup/cpu/kubedeno/${spin.metadata.uid}/spin`;
    assert.is((await Deno.readTextFile(`${dir}/cpu.cfs_quota_us`)).trim(), "20000");
    await until("the CPU limit throttling", async () => {
      const stat = await Deno.readTextFile(`${dir}/cpu.stat`);
      return Number(/nr_throttled (\d+)/.exec(stat)?.[1] ?? 0) > 0;
    });
    await kubectl(["delete", "pod", "spin", "hog", "--wait=true"]);
  });

  t("deleting a running pod stops its processes and removes it", async () => {
    const marker = `kubedeno-marker-${Date.now()}`;
    await kubectl(["run", "sleeper", "--image=busybox", "--", "sh", "-c", `sleep 3600; echo ${marker}`]);
    await podReaches("sleeper", "Running");
    await until("the container's process", async () => (await processesWith(marker)) > 0);
    await kubectl(["delete", "pod", "sleeper", "--wait=true", "--timeout=20s"]);
    const left = await server.kubectl(["get", "pod", "sleeper"]);
    assert.match(left.stderr, /NotFound/);
    assert.is(await processesWith(marker), 0);
  });
}

t.run();
