import { describe, expect, it } from "vitest";
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  nameIsDNSSubdomain,
  nameIsPathSegment,
} from "../../../src/api/names.js";

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const QNAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe("DNS names", () => {
  it.each([
    ["example.com", []],
    ["a", []],
    ["Bad_Name", [SUBDOMAIN_MSG]],
    ["-lead", [SUBDOMAIN_MSG]],
    ["x".repeat(254), ["must be no more than 253 characters"]],
  ])("subdomain %j", (v, want) => {
    expect(isDNS1123Subdomain(v)).toEqual(want);
  });

  it.each([
    ["my-name", []],
    ["123", []],
    ["a.b", [LABEL_MSG]],
    ["x".repeat(64), ["must be no more than 63 characters"]],
  ])("label %j", (v, want) => {
    expect(isDNS1123Label(v)).toEqual(want);
  });

  it.each([
    ["web", []],
    ["1web", [DNS1035_MSG]],
    ["web-", [DNS1035_MSG]],
  ])("dns-1035 %j", (v, want) => {
    expect(isDNS1035Label(v)).toEqual(want);
  });

  it("allows a trailing dash in generateName only", () => {
    expect(nameIsDNSSubdomain("web-", true)).toEqual([]);
    expect(nameIsDNSSubdomain("web-", false)).toEqual([SUBDOMAIN_MSG]);
  });

  it("applies path-segment rules to RBAC names", () => {
    expect(nameIsPathSegment("system:admin", false)).toEqual([]);
    expect(nameIsPathSegment("..", false)).toEqual(["may not be '..'"]);
    expect(nameIsPathSegment("a/b%c", false)).toEqual(["may not contain '/'", "may not contain '%'"]);
  });
});

describe("qualified names and label values", () => {
  it.each([
    ["app", []],
    ["example.com/app", []],
    ["app name", [QNAME_MSG]],
    ["/app", ["prefix part must be non-empty"]],
    ["Bad_Prefix/app", [`prefix part ${SUBDOMAIN_MSG}`]],
    [
      "a/b/c",
      [
        expect.stringMatching(
          /^a qualified name must consist of .* with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/,
        ),
      ],
    ],
    ["", ["name part must be non-empty", QNAME_MSG]],
    ["x".repeat(64), ["name part must be no more than 63 characters"]],
  ])("qualified name %j", (v, want) => {
    expect(isQualifiedName(v)).toEqual(want);
  });

  it.each([
    ["", []],
    ["v1.2_x", []],
    ["bad value!", [LABEL_VALUE_MSG]],
    ["x".repeat(64), ["must be no more than 63 characters"]],
  ])("label value %j", (v, want) => {
    expect(isValidLabelValue(v)).toEqual(want);
  });
});

describe("ports, env names, config keys", () => {
  it.each([
    [0, ["must be between 1 and 65535, inclusive"]],
    [1, []],
    [65535, []],
    [65536, ["must be between 1 and 65535, inclusive"]],
  ])("port %d", (p, want) => {
    expect(isValidPortNum(p)).toEqual(want);
  });

  it.each([
    ["http", []],
    ["http-metrics-long", ["must be no more than 15 characters"]],
    [
      "HTTP",
      [
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        "must contain at least one letter (a-z)",
      ],
    ],
    ["8080", ["must contain at least one letter (a-z)"]],
    ["a--b", ["must not contain consecutive hyphens (-)"]],
    ["-ab", ["must not begin or end with a hyphen (-)"]],
  ])("port name %j", (n, want) => {
    expect(isValidPortName(n)).toEqual(want);
  });

  it("uses the relaxed env var rule of 1.32", () => {
    expect(isRelaxedEnvVarName("1FOO.bar-baz")).toEqual([]);
    expect(isRelaxedEnvVarName("A=B")).toEqual([
      "a valid environment variable name must consist only of printable ASCII characters other than '='",
    ]);
    expect(isRelaxedEnvVarName("")).toContain("environment variable name must be non-empty");
  });

  it("checks config keys", () => {
    expect(isConfigMapKey("app.properties")).toEqual([]);
    expect(isConfigMapKey("..data")).toEqual(["must not start with '..'"]);
    expect(isConfigMapKey("a/b")[0]).toBe(
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    );
  });
});
