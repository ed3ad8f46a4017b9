import { describe, expect, it } from "vitest";

import { phaseOf, queries, recipientsQuery, timelineQuery } from "./queries";

describe("the phases of a campaign's reads", () => {
  it("follow its status", () => {
    expect(phaseOf("DRAFT")).toBe("draft");
    expect(phaseOf("PENDING")).toBe("live");
    expect(phaseOf("PROCESSING")).toBe("live");
    expect(phaseOf("COMPLETED")).toBe("final");
    expect(phaseOf("FAILED")).toBe("final");
  });

  it("key each phase apart, so that a draft's empty chart is not taken for the final one", () => {
    const keys = (["draft", "live", "final"] as const).map((phase) =>
      JSON.stringify(timelineQuery(queries(), "c", phase).queryKey),
    );
    expect(new Set(keys).size).toBe(3);
    const recipients = (["draft", "final"] as const).map((phase) =>
      JSON.stringify(recipientsQuery(queries(), "c", "all", 1, phase).queryKey),
    );
    expect(recipients[0]).not.toBe(recipients[1]);
  });
});
