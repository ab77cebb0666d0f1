/**
 * The protobuf body decoder, loaded on the first protobuf request body instead of with the hub.
 *
 * Design notes
 * - kubectl 1.32 sends protobuf only for its typed `create` sub-commands and `auth can-i` /
 *   `auth whoami` (reference/kubectl-wire.md); everything else is JSON. The message tables of
 *   this folder (≈57 KB of source, evaluated into objects at load) sat in every idle hub, so the
 *   API server's readBody awaits loadProtobufDecoder() when a body's Content-Type is protobuf
 *   (like the YAML parser, codec.ts), and decodeBody then calls the loaded decoder synchronously.
 *   The bundler puts envelope.js and its tables in their own chunk because only this file
 *   imports them dynamically.
 * - Unit tests and tools keep importing decodeProtobufBody from index.ts directly.
 */
import type { KubeObject } from "../object.js";

let decode: ((buf: Uint8Array) => KubeObject) | undefined;

/** Loads the decoder (once); readBody calls this for protobuf bodies. */
export async function loadProtobufDecoder(): Promise<void> {
  decode ??= (await import("./envelope.js")).decodeProtobufBody;
}

/** Decodes a protobuf body with the loaded decoder; throws if loadProtobufDecoder() has not run. */
export function decodeLoadedProtobufBody(buf: Uint8Array): KubeObject {
  if (!decode) {
    throw new Error("a protobuf body was decoded before loadProtobufDecoder(): read bodies with readBody");
  }
  return decode(buf);
}
