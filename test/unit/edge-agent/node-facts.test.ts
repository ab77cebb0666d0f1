import { describe, expect, it } from "vitest";
import { osImageOf, parseOsRelease } from "../../../src/edge-agent/node-facts.js";

describe("node facts from os-release", () => {
  it("reports PRETTY_NAME as osImage, as the kubelet does", () => {
    const r = parseOsRelease(
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n' +
        "VERSION_CODENAME=bookworm\n# a comment\nID=debian\n",
    );
    expect(r.ID).toBe("debian");
    expect(r.VERSION_CODENAME).toBe("bookworm");
    expect(osImageOf(r)).toBe("Debian GNU/Linux 12 (bookworm)");
  });

  it("builds one from NAME, VERSION_ID and the codename without PRETTY_NAME, and unquotes escapes", () => {
    const r = parseOsRelease(
      'NAME=\'Raspbian\'\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\nX="say \\"hi\\""\n',
    );
    expect(osImageOf(r)).toBe("Raspbian 11 (bullseye)");
    expect(r.X).toBe('say "hi"');
    expect(osImageOf(parseOsRelease(""))).toBe("");
  });
});
