/**
 * The API object model: pure logic shared by hub and agent (no I/O).
 */
export * from "./defaults/index.js";
export * from "./errors.js";
export * from "./json-access.js";
export * from "./names.js";
export * from "./object.js";
export * from "./quantity.js";
export * from "./selectors.js";
export * from "./validation/index.js";
