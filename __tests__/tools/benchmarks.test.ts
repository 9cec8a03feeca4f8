import {
  evaluateTargets,
  excess,
  JUDGED_NAMES,
  type Judged,
  type Measurement,
  renderMarkdown,
  type Scaling,
  slope,
} from "../../tools/lib/benchmarks";

function measurement(name: string, medianMs: number, peakRssMiB?: number): Measurement {
  return { name, runs: 5, medianMs, minMs: medianMs, maxMs: medianMs, peakRssMiB };
}

function judged(allMs: number, reviewMs: number): Judged {
  return {
    baseline: measurement(JUDGED_NAMES.baseline, 350, 64),
    all: measurement(JUDGED_NAMES.all, allMs, 180),
    precompiled: measurement(JUDGED_NAMES.precompiled, allMs - 100, 150),
    review: measurement(JUDGED_NAMES.review, reviewMs),
    tests: measurement(JUDGED_NAMES.tests, 117_000),
  };
}

const scaling: Scaling[] = [
  { kind: "inference endpoints", points: [], perItemMs: 6.68, perItemErrorMs: 0.56 },
  { kind: "GPU node groups", points: [], perItemMs: 4.5, perItemErrorMs: 0.48 },
  { kind: "widgets", points: [], perItemMs: 2.1, perItemErrorMs: 0.3 },
];

describe("slope", () => {
  it("is exact, with no error, for points on a line", () => {
    const points = [0, 10, 50].map((count) => ({ count, ms: 1000 + 3 * count }));
    expect(slope(points)).toEqual({ perItemMs: 3, errorMs: 0 });
  });

  it("is the least-squares slope with its standard error for scattered points", () => {
    const points = [0, 2, 2, 4].map((ms, count) => ({ count, ms }));
    // Slope 6 / 5; residuals ±0.2 and ±0.6 give sqrt(0.8 / 2 / 5).
    expect(slope(points)).toEqual({ perItemMs: 1.2, errorMs: 0.28 });
  });
});

describe("excess", () => {
  it("says by how much and what share a limit is exceeded", () => {
    expect(excess(1829, 1500, "ms")).toBe("329 ms (22 %)");
    expect(excess(6.68, 5, "ms", 2)).toBe("1.68 ms (34 %)");
  });

  it("is undefined at or under the limit", () => {
    expect(excess(1500, 1500, "ms")).toBeUndefined();
    expect(excess(120, 180, "s")).toBeUndefined();
  });
});

describe("evaluateTargets", () => {
  const byWhat = (allMs: number, reviewMs: number) =>
    new Map(evaluateTargets(judged(allMs, reviewMs), scaling).map((target) => [target.what, target]));

  it("judges a missed synth target and says by how much", () => {
    const synth = byWhat(1829, 4153).get("synth of all environments, wall time");
    expect(synth).toMatchObject({ met: false, missedBy: "329 ms (22 %)", measured: "1829 ms" });
    expect(synth?.note).toBe("5.2 × the cdktf baseline; 1729 ms precompiled");
  });

  it("names what tsx's start alone costs when Node's start was measured with and without it", () => {
    const synth = evaluateTargets(
      {
        ...judged(1855, 3742),
        nodeStart: measurement(JUDGED_NAMES.nodeStart, 130),
        tsxStart: measurement(JUDGED_NAMES.tsxStart, 510),
      },
      [],
    ).find((target) => target.what === "synth of all environments, wall time");
    expect(synth?.note).toBe(
      "5.3 × the cdktf baseline; 1755 ms precompiled; tsx's start alone 380 ms: 510 ms against node's 130 ms",
    );
  });

  it("adds the synth as cdktf.json runs it when that was measured", () => {
    const synth = evaluateTargets(
      { ...judged(693, 1599), cdktfApp: measurement(JUDGED_NAMES.cdktfApp, 1061) },
      [],
    ).find((target) => target.what === "synth of all environments, wall time");
    expect(synth?.note).toBe(
      "2.0 × the cdktf baseline; 593 ms precompiled; 1061 ms as cdktf.json runs it, `npx tsx main.ts`",
    );
  });

  it("judges a met synth target without a distance", () => {
    expect(byWhat(1400, 3000).get("synth of all environments, wall time")).toMatchObject({
      met: true,
      missedBy: undefined,
    });
  });

  it("tells a missed, an unresolved and a met per-item slope apart", () => {
    const targets = byWhat(1829, 4153);
    expect(targets.get("synth cost per added inference endpoint")).toMatchObject({
      met: false,
      unresolved: false,
      missedBy: "1.68 ms (34 %)",
    });
    expect(targets.get("synth cost per added GPU node group")).toMatchObject({
      met: false,
      unresolved: true,
    });
    expect(targets.get("synth cost per added widget")).toMatchObject({ met: true, unresolved: false });
  });

  it("judges the review against 2.5 synths", () => {
    expect(byWhat(1800, 4500).get("review between two commits")).toMatchObject({ met: true });
    expect(byWhat(1800, 4600).get("review between two commits")).toMatchObject({
      met: false,
      missedBy: "100 ms (2 %)",
    });
  });

  it("leaves out the review and npm test when they were not measured", () => {
    const { baseline, all, precompiled } = judged(1829, 4153);
    const whats = evaluateTargets({ baseline, all, precompiled }, []).map((target) => target.what);
    expect(whats).toEqual(["synth of all environments, wall time", "synth of all environments, peak RSS"]);
  });
});

describe("renderMarkdown", () => {
  const markdown = renderMarkdown(
    { cpus: 2, cpuModel: "AMD EPYC", node: "v20.20.2" },
    5,
    [measurement(JUDGED_NAMES.all, 1829, 180)],
    scaling,
    [],
    evaluateTargets(judged(1829, 4153), scaling),
  );

  it("shows a missed target with its distance and why", () => {
    expect(markdown).toMatch(
      /\| 1829 ms \([^)]+\) \| \*\*no\*\*, by 329 ms \(22 %\): fixed cost at every start/,
    );
  });

  it("shows an unresolved target as neither met nor missed", () => {
    expect(markdown).toMatch(
      /\| synth cost per added GPU node group \| ≤ 5 ms \| 4.5 ms ± 0.48 ms \| \*\*not resolved\*\*/,
    );
  });

  it("names the machine and leaves out the Terraform table when there is none", () => {
    expect(markdown).toContain("on 2 CPUs (AMD EPYC), Node.js v20.20.2; 5 runs per measurement");
    expect(markdown).not.toContain("## Offline Terraform per stack");
  });
});
