/** For the Deployment controller's tests: a server running the ReplicaSet and Deployment controllers. */

import { type ControllerTestEnv, fakeKubelet, startControllers } from "../framework/test_env.ts";
import { newReplicaSetController } from "../replicaset/controller.ts";
import { newDeploymentController } from "./controller.ts";
import type { Deployment, Pod, ReplicaSet } from "./types.ts";

/** A deployment of `replicas` nginx pods labelled `app=<name>`; `spec` fields override. */
export function deployment(name: string, replicas: number, spec: Record<string, unknown> = {}): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "c", image: "nginx:1.0" }] },
      },
      ...spec,
    },
  };
}

/**
 * Runs `fn` against a server with both controllers and a fake kubelet (`hold` keeps a pod
 * unready), then stops everything, failing or not.
 */
export async function withControllers(
  fn: (env: ControllerTestEnv) => Promise<void>,
  options: { hold?: (pod: Pod) => boolean } = {},
): Promise<void> {
  const env = await startControllers([newReplicaSetController, newDeploymentController]);
  const stop = new AbortController();
  fakeKubelet(env.client, stop.signal, { hold: options.hold });
  try {
    await fn(env);
  } finally {
    stop.abort();
    await env.close();
  }
}

export function clients(env: ControllerTestEnv) {
  return {
    deployments: env.client.resource<Deployment>("apps", "deployments"),
    replicaSets: env.client.resource<ReplicaSet>("apps", "replicasets"),
    pods: env.client.resource<Pod>("", "pods"),
  };
}

/** The deployment's events as `reason: message`, oldest first. */
export async function deploymentEvents(env: ControllerTestEnv, name: string): Promise<string[]> {
  await env.ctx.events.flush();
  return (await env.client.resource("", "events").list("default")).items
    .filter((e) => {
      const o = e.involvedObject as { kind: string; name: string };
      return o.kind === "Deployment" && o.name === name;
    })
    .sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)))
    .map((e) => `${e.reason}: ${e.message}`);
}

/**
 * Watches `resource` from now, handing each event to `onEvent` in order; answers a function that
 * stops the watch and resolves once it has.
 */
export async function watchEvents<T extends { metadata?: { resourceVersion?: string } }>(
  env: ControllerTestEnv,
  group: string,
  resource: string,
  onEvent: (type: string, obj: T) => void,
): Promise<() => Promise<void>> {
  const client = env.client.resource(group, resource);
  const list = await client.list("default");
  for (const item of list.items) onEvent("ADDED", item as unknown as T);
  const abort = new AbortController();
  const done = (async () => {
    try {
      for await (
        const ev of client.watch("default", {
          resourceVersion: list.metadata.resourceVersion,
          signal: abort.signal,
        })
      ) {
        if (ev.type !== "BOOKMARK" && ev.type !== "ERROR") onEvent(ev.type, ev.object as unknown as T);
      }
    } catch { /* stopped */ }
  })();
  return async () => {
    abort.abort();
    await done;
  };
}

/** Touches the pods matching `selector` (an annotation), so the fake kubelet looks at them again. */
export async function nudgePods(env: ControllerTestEnv, selector: string): Promise<void> {
  const pods = env.client.resource<Pod>("", "pods");
  for (const p of (await pods.list("default", { labelSelector: selector })).items) {
    await pods.patch("default", p.metadata!.name!, "merge", {
      metadata: { annotations: { "test/nudge": String(Date.now()) } },
    }).catch(() => undefined);
  }
}

/** The deployment once its rollout is complete (every desired replica updated and available). */
export function isComplete(d: Deployment): boolean {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want;
}
