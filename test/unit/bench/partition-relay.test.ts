/** The relay's model of TCP retransmission timing after a partition heals (pure arithmetic). */
import { describe, expect, it } from "vitest";
import { nextRetransmitMs } from "../../../bench/lib/partition-relay.js";

describe("nextRetransmitMs", () => {
  it("waits for the retransmission that follows the heal: RTO × (2^k − 1) after the first loss", () => {
    // retransmissions at 0.2, 0.6, 1.4, 3.0, 6.2, 12.6, 25.4, 51.0, 102.2 s
    expect(nextRetransmitMs(0, 5_000)).toBeCloseTo(1_200);
    expect(nextRetransmitMs(0, 20_000)).toBeCloseTo(5_400);
    expect(nextRetransmitMs(0, 60_000)).toBeCloseTo(42_200);
  });

  it("is the first retransmission when the heal comes before it", () => {
    expect(nextRetransmitMs(1_000, 1_100)).toBeCloseTo(100);
  });
});
