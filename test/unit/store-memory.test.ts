import { MemoryBackend } from "../../src/hub/store/index.js";
import { registerStoreContract } from "../helpers/store-contract.js";

registerStoreContract("MemoryBackend", (opts) => new MemoryBackend(opts));
