export * from "./client.js";
export * from "./informer.js";
