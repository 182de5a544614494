/** The storage contract and its backends. */
export * from "./store.ts";
export { LmdbStore, type LmdbStoreOptions, openLmdbStore } from "./lmdb/lmdb_store.ts";
