import { imageImportMain } from "./edge-agent-image.js";

/** `edge-agent …`: argv → validated config → start. (Placeholder dispatch; filled by the edge link work.) */
export async function agentMain(argv: string[]): Promise<number> {
  if (argv[0] === "image" && argv[1] === "import") return imageImportMain(argv.slice(2));
  process.stderr.write(`edge-agent: not implemented yet: ${argv.join(" ")}\n`);
  return 2;
}
