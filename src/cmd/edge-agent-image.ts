/**
 * `edge-agent image import FILE.tar…`: loads `docker save` tarballs into the node's Docker, the
 * manual twin of the airgap folder (DATA_DIR/images), for images brought on a USB stick.
 */
import { existsSync } from "node:fs";
import { DockerRuntime } from "../edge-agent/runtime/index.js";

export async function imageImportMain(argv: string[]): Promise<number> {
  const files = argv.filter((a) => !a.startsWith("-"));
  if (files.length === 0 || argv.includes("--help") || argv.includes("-h")) {
    process.stderr.write(
      "Usage: edge-agent image import FILE.tar [FILE.tar…]  (tarballs made by `docker save`)\n",
    );
    return files.length === 0 ? 2 : 0;
  }
  // loading needs no sandbox image; the name is only required by the constructor
  const runtime = new DockerRuntime({ sandboxImage: "edgekube/pause:unused" });
  let failed = 0;
  for (const f of files) {
    if (!existsSync(f)) {
      process.stderr.write(
        `edge-agent image import: ${f} does not exist: give the path of a docker save tarball\n`,
      );
      failed++;
      continue;
    }
    try {
      const tags = await runtime.loadImageTar(f);
      process.stdout.write(`${f}: loaded ${tags.length > 0 ? tags.join(", ") : "(untagged image)"}\n`);
    } catch (err) {
      process.stderr.write(
        `edge-agent image import: loading ${f} failed: ${(err as Error).message} (is dockerd running, and is the file a complete docker save tarball?)\n`,
      );
      failed++;
    }
  }
  return failed === 0 ? 0 : 1;
}
