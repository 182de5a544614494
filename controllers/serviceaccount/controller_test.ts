import { test } from "uvu";
import * as assert from "uvu/assert";
import { eventually, startControllers } from "../framework/test_env.ts";
import { isStatusError } from "../../machinery/status.ts";
import type { KubeObject } from "../../machinery/object_meta.ts";
import { newServiceAccountController } from "./serviceaccounts.ts";
import {
  DESCRIPTION_ANNOTATION,
  newRootCAPublisher,
  ROOT_CA_CONFIG_MAP,
  ROOT_CA_DESCRIPTION,
} from "./root_ca_publisher.ts";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBdGVzdA==\n-----END CERTIFICATE-----\n";

async function exists(get: () => Promise<unknown>): Promise<boolean> {
  try {
    await get();
    return true;
  } catch (err) {
    if (isStatusError(err, "NotFound")) return false;
    throw err;
  }
}

test("every namespace gets a default ServiceAccount, re-created when deleted", async () => {
  const env = await startControllers([newServiceAccountController]);
  const sas = env.client.resource("", "serviceaccounts");
  await eventually(() => exists(() => sas.get("default", "default")), 3000, "default/default");
  await eventually(() => exists(() => sas.get("kube-system", "default")), 3000, "kube-system/default");
  await env.client.resource("", "namespaces").create("", { metadata: { name: "team-a" } });
  await eventually(() => exists(() => sas.get("team-a", "default")), 3000, "team-a/default");
  const first = await sas.get("team-a", "default");
  await sas.delete("team-a", "default");
  const again = await eventually(
    async () => {
      const sa = await sas.get("team-a", "default").catch(() => undefined);
      return sa && sa.metadata?.uid !== first.metadata?.uid && sa;
    },
    3000,
    "re-created",
  );
  assert.ok(again);
  // Other service accounts are not the controller's business.
  await sas.create("team-a", { metadata: { name: "builder" } });
  await sas.delete("team-a", "builder");
  await new Promise((r) => setTimeout(r, 100));
  assert.not.ok(await exists(() => sas.get("team-a", "builder")));
  await env.close();
});

test("a terminating namespace gets no new ServiceAccount", async () => {
  const env = await startControllers([newServiceAccountController]);
  const sas = env.client.resource("", "serviceaccounts");
  const nss = env.client.resource("", "namespaces");
  await nss.create("", { metadata: { name: "leaving" } });
  await eventually(() => exists(() => sas.get("leaving", "default")), 3000, "leaving/default");
  // The test server runs no namespace deleter: the namespace stays Terminating.
  await nss.delete("", "leaving");
  await sas.delete("leaving", "default");
  await new Promise((r) => setTimeout(r, 200));
  const ns = await nss.get("", "leaving");
  assert.is((ns.status as { phase?: string })?.phase, "Terminating");
  assert.not.ok(await exists(() => sas.get("leaving", "default")), "not re-created while terminating");
  await env.close();
});

test("kube-root-ca.crt is published in every namespace, re-created and fixed", async () => {
  const env = await startControllers([newRootCAPublisher({ rootCA: PEM })]);
  const cms = env.client.resource("", "configmaps");
  const get = (ns: string) =>
    cms.get(ns, ROOT_CA_CONFIG_MAP) as Promise<KubeObject & { data?: Record<string, string> }>;
  const cm = await eventually(() => get("default").catch(() => undefined), 3000, "default/kube-root-ca.crt");
  assert.equal(cm.data, { "ca.crt": PEM });
  assert.is(cm.metadata?.annotations?.[DESCRIPTION_ANNOTATION], ROOT_CA_DESCRIPTION);
  await env.client.resource("", "namespaces").create("", { metadata: { name: "team-b" } });
  await eventually(() => get("team-b").catch(() => undefined), 3000, "team-b/kube-root-ca.crt");
  // Changed: put back.
  await cms.patch("team-b", ROOT_CA_CONFIG_MAP, "merge", { data: { "ca.crt": "tampered", extra: "x" } });
  await eventually(
    async () => {
      const c = await get("team-b");
      return c.data?.["ca.crt"] === PEM && !("extra" in (c.data ?? {}));
    },
    3000,
    "data restored",
  );
  await cms.patch("team-b", ROOT_CA_CONFIG_MAP, "merge", {
    metadata: { annotations: { [DESCRIPTION_ANNOTATION]: null } },
  });
  await eventually(
    async () => (await get("team-b")).metadata?.annotations?.[DESCRIPTION_ANNOTATION] === ROOT_CA_DESCRIPTION,
    3000,
    "annotation restored",
  );
  // Deleted: re-created.
  const before = await get("team-b");
  await cms.delete("team-b", ROOT_CA_CONFIG_MAP);
  await eventually(
    async () => {
      const c = await get("team-b").catch(() => undefined);
      return c && c.metadata?.uid !== before.metadata?.uid;
    },
    3000,
    "re-created",
  );
  // Other ConfigMaps are left alone.
  await cms.create("team-b", { metadata: { name: "app" }, data: { a: "1" } });
  await cms.delete("team-b", "app");
  await new Promise((r) => setTimeout(r, 100));
  assert.not.ok(await exists(() => cms.get("team-b", "app")));
  await env.close();
});

test.run();
