/**
 * Resource quantities ("100m", "1.5Gi", "2e3"), as apimachinery's resource.Quantity.
 *
 * Design notes:
 * - A quantity is held as an exact integer count of nano-units (BigInt) plus the format it was
 *   written in. Nano is upstream's finest precision: finer input is rounded up (away from
 *   zero), so "0.1n" is "1n" as on a real apiserver. BigInt keeps 8Ei (2^63 bytes) exact.
 * - The canonical string follows upstream's CanonicalizeBytes, because objects read back must
 *   print like upstream's ("1.5" → "1500m", "0.5Gi" → "512Mi", "1000" → "1k"):
 *   · BinarySI: integers ≥ 1024 use the largest power of 1024 that divides them; smaller or
 *     fractional values fall back to DecimalSI so nothing is rounded away.
 *   · DecimalSI / DecimalExponent: strip trailing zeros, floor the exponent to a multiple of 3,
 *     then print the SI suffix ("m", "k", …) or "e<exp>".
 * - Numeric helpers (toMilli, toBytes) round up like upstream's MilliValue/Value: a request of
 *   "1n" CPU is 1m, never 0, so schedulers never under-count.
 */

export type QuantityFormat = "DecimalSI" | "BinarySI" | "DecimalExponent";

export interface Quantity {
  /** the amount in units of 10^-9 */
  readonly nanos: bigint;
  readonly format: QuantityFormat;
}

export const QUANTITY_REGEX = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";
export const ERR_FORMAT_WRONG = `quantities must match the regular expression '${QUANTITY_REGEX}'`;
export const ERR_NUMERIC = "unable to parse numeric part of quantity";
export const ERR_SUFFIX = "unable to parse quantity's suffix";

export class QuantityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QuantityError";
  }
}

const quantityRe = new RegExp(QUANTITY_REGEX);
const NANO = 1_000_000_000n;
const BINARY_SUFFIXES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] as const;
const DECIMAL_SUFFIXES: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const DECIMAL_BY_EXP = new Map<number, string>(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));

const pow10 = (n: number): bigint => 10n ** BigInt(n);
const abs = (v: bigint): bigint => (v < 0n ? -v : v);

/** num/den rounded away from zero (upstream rounds sub-nano precision up) */
function divAwayFromZero(num: bigint, den: bigint): bigint {
  const q = num / den;
  return num % den === 0n ? q : num < 0n ? q - 1n : q + 1n;
}

export function parseQuantity(input: string | number): Quantity {
  const str = typeof input === "number" ? String(input) : input;
  if (str.length === 0) throw new QuantityError(ERR_FORMAT_WRONG);
  const m = quantityRe.exec(str);
  if (!m) throw new QuantityError(ERR_FORMAT_WRONG);
  let numPart = m[1] ?? "";
  const suffix = m[2] ?? "";
  let negative = false;
  if (numPart.startsWith("+") || numPart.startsWith("-")) {
    negative = numPart.startsWith("-");
    numPart = numPart.slice(1);
  }
  const numM = /^([0-9]*)(?:\.([0-9]*))?$/.exec(numPart);
  if (!numM || `${numM[1] ?? ""}${numM[2] ?? ""}`.length === 0) throw new QuantityError(ERR_NUMERIC);
  const whole = numM[1] ?? "";
  const frac = numM[2] ?? "";
  let num = BigInt(`${whole}${frac}` || "0");
  let den = pow10(frac.length);
  let format: QuantityFormat;
  const binIdx = BINARY_SUFFIXES.indexOf(suffix as (typeof BINARY_SUFFIXES)[number]);
  if (suffix !== "" && binIdx > 0) {
    format = "BinarySI";
    num *= 1024n ** BigInt(binIdx);
  } else if (suffix in DECIMAL_SUFFIXES) {
    format = "DecimalSI";
    const e = DECIMAL_SUFFIXES[suffix] ?? 0;
    if (e >= 0) num *= pow10(e);
    else den *= pow10(-e);
  } else {
    const em = /^[eE]([-+]?[0-9]+)$/.exec(suffix);
    if (!em) throw new QuantityError(ERR_SUFFIX);
    format = "DecimalExponent";
    const e = Number(em[1]);
    if (!Number.isSafeInteger(e) || Math.abs(e) > 1000) throw new QuantityError(ERR_SUFFIX);
    if (e >= 0) num *= pow10(e);
    else den *= pow10(-e);
  }
  let nanos = divAwayFromZero(num * NANO, den);
  if (negative) nanos = -nanos;
  return { nanos, format };
}

/** upstream's message for an unparsable quantity, or undefined when it parses */
export function quantityError(input: unknown): string | undefined {
  if (typeof input !== "string" && typeof input !== "number") return ERR_FORMAT_WRONG;
  try {
    parseQuantity(input);
    return undefined;
  } catch (e) {
    return e instanceof QuantityError ? e.message : ERR_FORMAT_WRONG;
  }
}

export function formatQuantity(q: Quantity): string {
  if (q.nanos === 0n) return "0";
  const sign = q.nanos < 0n ? "-" : "";
  const a = abs(q.nanos);
  if (q.format === "BinarySI" && a >= 1024n * NANO && a % NANO === 0n) {
    let v = a / NANO;
    let k = 0;
    while (k < BINARY_SUFFIXES.length - 1 && v % 1024n === 0n) {
      v /= 1024n;
      k++;
    }
    return `${sign}${v}${BINARY_SUFFIXES[k]}`;
  }
  let mantissa = a;
  let exp = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exp++;
  }
  // floor to a multiple of 3, and keep within the SI suffixes (n … E)
  let e3 = Math.floor(exp / 3) * 3;
  if (q.format !== "DecimalExponent") e3 = Math.min(e3, 18);
  mantissa *= pow10(exp - e3);
  if (q.format === "DecimalExponent") {
    return `${sign}${mantissa}${e3 === 0 ? "" : `e${e3}`}`;
  }
  return `${sign}${mantissa}${DECIMAL_BY_EXP.get(e3) ?? ""}`;
}

/** the string a real apiserver stores for this quantity */
export function canonicalQuantity(input: string | number): string {
  return formatQuantity(parseQuantity(input));
}

const asQuantity = (v: Quantity | string | number): Quantity =>
  typeof v === "object" ? v : parseQuantity(v);

export function compareQuantity(a: Quantity | string | number, b: Quantity | string | number): -1 | 0 | 1 {
  const x = asQuantity(a).nanos;
  const y = asQuantity(b).nanos;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function addQuantity(a: Quantity | string | number, b: Quantity | string | number): Quantity {
  const x = asQuantity(a);
  return { nanos: x.nanos + asQuantity(b).nanos, format: x.format };
}

export function subQuantity(a: Quantity | string | number, b: Quantity | string | number): Quantity {
  const x = asQuantity(a);
  return { nanos: x.nanos - asQuantity(b).nanos, format: x.format };
}

/** MilliValue: thousandths, rounded up ("100m" cpu → 100, "1" → 1000) */
export function toMilli(v: Quantity | string | number): number {
  return Number(divAwayFromZero(asQuantity(v).nanos, 1_000_000n));
}

/** Value: whole units, rounded up ("1Ki" → 1024, "100m" → 1) */
export function toBytes(v: Quantity | string | number): number {
  return Number(divAwayFromZero(asQuantity(v).nanos, NANO));
}

export function quantityFromMilli(milli: number): Quantity {
  return { nanos: BigInt(Math.round(milli)) * 1_000_000n, format: "DecimalSI" };
}

export function quantityFromBytes(bytes: number, format: QuantityFormat = "BinarySI"): Quantity {
  return { nanos: BigInt(Math.round(bytes)) * NANO, format };
}

export function isZeroQuantity(v: Quantity | string | number): boolean {
  return asQuantity(v).nanos === 0n;
}
