import { describe, expect, it } from "vitest";
import { humanDuration, shortHumanDuration } from "../../../../../src/hub/apiserver/printers/index.js";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const DAY = 24 * H;
const YEAR = 365 * DAY;

// Boundaries from apimachinery's duration_test.go (v0.32), in milliseconds.
describe("humanDuration (duration.HumanDuration)", () => {
  it.each([
    [S, "1s"],
    [70 * S, "70s"],
    [190 * S, "3m10s"],
    [70 * M, "70m"],
    [47 * H, "47h"],
    [49 * H, "2d1h"],
    [(8 * 24 + 2) * H, "8d"],
    [367 * DAY, "367d"],
    [(365 * 2 * 24 + 25) * H, "2y1d"],
    [(365 * 8 * 24 + 2) * H, "8y"],
    [-2 * S, "<invalid>"],
    [-2 * S + 1, "0s"],
    [0, "0s"],
    [S - 1, "0s"],
    [2 * M - 1, "119s"],
    [2 * M, "2m"],
    [2 * M + S, "2m1s"],
    [10 * M - 1, "9m59s"],
    [10 * M, "10m"],
    [10 * M + S, "10m"],
    [3 * H - 1, "179m"],
    [3 * H, "3h"],
    [3 * H + M, "3h1m"],
    [8 * H - 1, "7h59m"],
    [8 * H, "8h"],
    [8 * H + 59 * M, "8h"],
    [2 * DAY - 1, "47h"],
    [2 * DAY, "2d"],
    [2 * DAY + H, "2d1h"],
    [8 * DAY - 1, "7d23h"],
    [8 * DAY, "8d"],
    [8 * DAY + 23 * H, "8d"],
    [2 * YEAR - 1, "729d"],
    [2 * YEAR, "2y"],
    [2 * YEAR + 24 * H - 1, "2y"],
    [2 * YEAR + 24 * H, "2y1d"],
    [3 * YEAR + 12 * DAY, "3y12d"],
    [8 * YEAR - 1, "7y364d"],
    [8 * YEAR, "8y"],
    [8 * YEAR + 364 * DAY, "8y"],
    [9 * YEAR, "9y"],
  ])("%d ms → %s", (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });
});

describe("shortHumanDuration (duration.ShortHumanDuration)", () => {
  it.each([
    [-2 * S, "<invalid>"],
    [-2 * S + 1, "0s"],
    [0, "0s"],
    [S - 1, "0s"],
    [S, "1s"],
    [2 * S - 1, "1s"],
    [M - 1, "59s"],
    [M, "1m"],
    [2 * M - 1, "1m"],
    [H - 1, "59m"],
    [H, "1h"],
    [2 * H - 1, "1h"],
    [DAY - 1, "23h"],
    [DAY, "1d"],
    [2 * DAY - 1, "1d"],
    [YEAR - 1, "364d"],
    [YEAR, "1y"],
    [2 * YEAR - 1, "1y"],
    [2 * YEAR, "2y"],
  ])("%d ms → %s", (ms, want) => {
    expect(shortHumanDuration(ms)).toBe(want);
  });
});
