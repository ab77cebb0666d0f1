/** The hub's store: the Backend contract and its SQLite and in-memory implementations. */
export {
  type Backend,
  CompactedError,
  ConflictError,
  KeyExistsError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  NotFoundError,
  StoreClosedError,
  type Watch,
  type WatchEvent,
  type WatchEventType,
  type WatchOptions,
  WatchOverflowError,
} from "./backend.js";
export { MemoryBackend, type MemoryBackendOptions } from "./memory-backend.js";
export { SqliteBackend, type SqliteBackendOptions } from "./sqlite-backend.js";
