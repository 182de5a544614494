/**
 * The V8 flags kubedeno's processes run with (`npm start`, `deno task up`, the tests' and the
 * benches' servers).
 *
 * `--heap-growing-percent=50`: after a full collection the old generation may grow to 1.5× what
 * survived before the next one, where V8 would otherwise allow up to 4×. A control plane's heap is
 * mostly long-lived caches, so the default kept about three times the live heap resident (0.85 GB
 * of V8 heap for 250 MB live with 30,000 pods); with the flag it keeps about half of that, at no
 * measurable cost to throughput (bench/workloads.ts).
 */
export const V8_FLAGS = ["--v8-flags=--heap-growing-percent=50"];
