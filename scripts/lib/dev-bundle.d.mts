import type { BuildOptions } from "esbuild";

export function devBundleOptions(opts: {
  entry: string;
  outdir: string;
  define?: Record<string, string>;
}): BuildOptions;
export function latin1(text: string): string;
