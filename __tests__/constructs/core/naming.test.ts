import fc from "fast-check";
import { NAME_LIMITS, Naming, shorten, type NamedService } from "../../../constructs/core/naming";

describe("Naming", () => {
  const naming = new Naming({ project: "mlops", environment: "dev" });

  it("joins project, environment and purpose", () => {
    expect(naming.name("s3", "raw")).toBe("mlops-dev-raw");
    expect(naming.name("iamRole", "training", "reader")).toBe("mlops-dev-training-reader");
  });

  it("lower-cases names for services that require it and replaces characters they refuse", () => {
    expect(naming.name("s3", "Model_Artifacts")).toBe("mlops-dev-model-artifacts");
    expect(naming.name("iamRole", "GpuNodes")).toBe("mlops-dev-GpuNodes");
  });

  it("shortens long names with a stable hash so they never collide", () => {
    const long = "a".repeat(80);
    const first = naming.name("s3", long);
    expect(first).toHaveLength(63);
    expect(naming.name("s3", long)).toBe(first);
    expect(naming.name("s3", `${long}b`)).not.toBe(first);
  });

  it("keeps every name within its service's limit, whatever the purpose", () => {
    const services = Object.keys(NAME_LIMITS) as NamedService[];
    fc.assert(
      fc.property(
        fc.constantFrom(...services),
        fc.string({ minLength: 1, maxLength: 300 }),
        (service, purpose) => {
          const name = naming.name(service, purpose);
          expect(name.length).toBeLessThanOrEqual(NAME_LIMITS[service].maxLength);
          expect(name).toMatch(/^[A-Za-z0-9-]+$/);
          if (NAME_LIMITS[service].lowerCase) expect(name).toBe(name.toLowerCase());
        },
      ),
    );
  });

  it("leaves short names as they are", () => {
    expect(shorten("abc", 10)).toBe("abc");
  });
});
