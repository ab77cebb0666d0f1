/** `edge-hub …`: argv → validated config → start. (Placeholder dispatch; filled by the API server work.) */
export async function hubMain(argv: string[]): Promise<number> {
  process.stderr.write(`edge-hub: not implemented yet: ${argv.join(" ")}\n`);
  return 2;
}
