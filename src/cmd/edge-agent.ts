/** `edge-agent …`: argv → validated config → start. (Placeholder dispatch; filled by the edge link work.) */
export async function agentMain(argv: string[]): Promise<number> {
  process.stderr.write(`edge-agent: not implemented yet: ${argv.join(" ")}\n`);
  return 2;
}
