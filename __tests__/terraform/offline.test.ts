/**
 * The strongest proof that what we synthesize is real Terraform, in one offline run: every AWS-only stack of
 * every committed environment, an environment variant, and bare stacks of the AWS constructs are validated
 * and planned (`terraform plan -refresh=false` validates first) against hashicorp/aws 5.100.0 from the local
 * mirror, with mock credentials. Planned together as modules of one configuration, the provider's schema is
 * loaded once instead of twice per stack: that is what keeps this suite affordable on every `npm test`.
 *
 * Where Terraform or the mirror is missing, the whole block is reported as skipped, with the reason in its
 * name, never as passed.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { loadEnvironments } from "../../environments/load";
import { buildApp } from "../../stacks/app";
import {
  isAwsOnly,
  offlineTerraformEnv,
  offlineUnavailableReasonSync,
  planStacksTogether,
  readSynthesizedStacks,
  run,
  type CombinedPlan,
  type StackPlan,
  type SynthesizedStack,
} from "../../tools/lib/terraform";
import { registryProps, registryStack } from "../constructs/model-registry/fixtures";
import { monitoringStack, MONITORING_RESOURCE_TYPES } from "../constructs/monitoring/offline-stack";
import { configFor, ROOT } from "../helpers/config";

const reason = offlineUnavailableReasonSync();
const describeOffline = reason ? describe.skip : describe;
const title = reason ? `offline Terraform checks (skipped: ${reason})` : "offline Terraform checks";

/** Synthesizes `build`'s stacks into a fresh folder of `work` and reads them back. */
function synthesized(work: string, folder: string, build: (outdir: string) => App): SynthesizedStack[] {
  const outdir = join(work, folder);
  build(outdir).synth();
  return readSynthesizedStacks(outdir);
}

describeOffline(title, () => {
  const work = mkdtempSync(join(tmpdir(), "mlops-offline-"));
  const environments = loadEnvironments(join(ROOT, "environments"));
  const all = synthesized(
    work,
    "environments",
    (outdir) => buildApp({ environments, offline: true, outdir }).app,
  );
  const committed = all.filter(isAwsOnly);
  // The Kubernetes and Helm stacks: no mirror of their providers, so only their configuration is loaded.
  const kubernetes = all.filter((stack) => !isAwsOnly(stack));

  const managedRegistry = synthesized(
    work,
    "sagemaker-managed",
    (outdir) =>
      buildApp({
        environments: [configFor("dev", { modelRegistry: { backend: "sagemaker-managed" } })],
        offline: true,
        outdir,
      }).app,
  )
    .filter((stack) => stack.name === "mlops-dev-platform")
    .map((stack) => ({ ...stack, name: "variant-dev-sagemaker-managed-platform" }));

  const registryCases = {
    "self-hosted": registryProps({ server: { clusterName: "mlops-dev" } }),
    "sagemaker-managed": registryProps({ backend: "sagemaker-managed", database: undefined }),
  };
  const registries = Object.entries(registryCases).flatMap(([name, props]) =>
    synthesized(work, `registry-${name}`, (outdir) => {
      const app = new App({ outdir });
      registryStack(props, app);
      return app;
    }).map((stack) => ({ ...stack, name: `registry-${name}` })),
  );

  const monitoring = synthesized(work, "monitoring", (outdir) => {
    const app = new App({ outdir });
    monitoringStack(app);
    return app;
  });

  let plan: CombinedPlan;
  beforeAll(
    async () => {
      plan = await planStacksTogether(
        [...committed, ...managedRegistry, ...registries, ...monitoring],
        join(work, "plan"),
        offlineTerraformEnv(work),
      );
    },
    10 * 60 * 1000,
  );

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const part = (name: string): StackPlan => plan.stacks.get(name)!;
  /** `planned`, or what went wrong: the stack's own errors, else everything Terraform said. */
  const outcome = (name: string): string => {
    const stack = part(name);
    if (stack.planned) return "planned";
    const errors = stack.errors.length > 0 ? stack.errors : plan.errors;
    return `not planned:\n${errors.join("\n")}\n${plan.init.code === 0 ? "" : plan.init.stderr}`;
  };
  const created = (name: string, type: string) =>
    part(name).changes.filter((change) => change.type === type && change.action === "create");

  it("initializes every stack from the provider mirror", () => {
    expect({ code: plan.init.code, stderr: plan.init.stderr }).toEqual({ code: 0, stderr: "" });
  });

  it("plans the whole configuration without an error", () => {
    expect(plan.errors).toEqual([]);
  });

  describe("committed environments", () => {
    it("covers the AWS stacks of every environment", () => {
      for (const environment of environments) {
        for (const stackPart of ["bootstrap", "data", "platform"]) {
          expect(committed.map((stack) => stack.name)).toContain(
            `${environment.project}-${environment.name}-${stackPart}`,
          );
        }
      }
    });

    it("has no AWS stack that needs another stack's state to plan", () => {
      expect(committed.filter((stack) => stack.readsRemoteState).map((stack) => stack.name)).toEqual([]);
    });

    it.each(committed.map((stack) => stack.name))("%s plans offline with mock credentials", (name) => {
      expect(outcome(name)).toBe("planned");
      expect(part(name).counts).toMatchObject({ destroy: 0 });
      expect(part(name).counts.add).toBeGreaterThan(0);
    });
  });

  describe("the Kubernetes and Helm stacks, without their providers", () => {
    // `init` loads and checks the whole configuration (expressions, references, depends_on) before it looks
    // for providers; with an empty plugin folder the providers are then all it can miss.
    let inits: Map<string, { code: number; stderr: string }>;
    beforeAll(async () => {
      const noPlugins = join(work, "no-plugins");
      mkdirSync(noPlugins, { recursive: true });
      const env = offlineTerraformEnv(work);
      const args = ["init", "-backend=false", "-input=false", "-no-color", `-plugin-dir=${noPlugins}`];
      const results = await Promise.all(
        kubernetes.map((stack) => run("terraform", args, { cwd: stack.dir, env })),
      );
      inits = new Map(kubernetes.map((stack, index) => [stack.name, results[index]]));
    }, 60_000);

    it("are the cluster stack of every environment", () => {
      expect(kubernetes.map((stack) => stack.name).sort()).toEqual(
        environments.map((environment) => `${environment.project}-${environment.name}-cluster`).sort(),
      );
    });

    it.each(kubernetes.map((stack) => stack.name))(
      "%s loads as Terraform configuration: only its providers are missing",
      (name) => {
        const { stderr } = inits.get(name)!;
        const errors = stderr.split("\n").filter((line) => line.startsWith("Error: "));
        expect(errors.length).toBeGreaterThan(0);
        expect([...new Set(errors)]).toEqual(["Error: Failed to query available provider packages"]);
        for (const provider of ["hashicorp/kubernetes", "hashicorp/helm"]) expect(stderr).toContain(provider);
      },
    );
  });

  describe("dev switched to the SageMaker-managed registry", () => {
    const name = "variant-dev-sagemaker-managed-platform";

    it("plans", () => {
      expect(outcome(name)).toBe("planned");
    });

    it("creates the managed tracking server", () => {
      expect(created(name, "aws_sagemaker_mlflow_tracking_server")).toHaveLength(1);
    });

    it("creates no database", () => {
      expect(created(name, "aws_db_instance")).toHaveLength(0);
    });
  });

  describe("ModelRegistry in a bare stack", () => {
    it.each(Object.keys(registryCases))("%s plans offline", (name) => {
      expect(outcome(`registry-${name}`)).toBe("planned");
      expect(part(`registry-${name}`).counts.add).toBeGreaterThan(0);
    });

    it("self-hosted creates the database, sagemaker-managed the tracking server", () => {
      expect(created("registry-self-hosted", "aws_db_instance")).toHaveLength(1);
      expect(created("registry-sagemaker-managed", "aws_sagemaker_mlflow_tracking_server")).toHaveLength(1);
    });
  });

  describe("monitoring constructs in a bare stack", () => {
    it("plans every resource with mock credentials", () => {
      expect(outcome("monitoring")).toBe("planned");
      expect(new Set(part("monitoring").changes.map((change) => change.type))).toEqual(
        new Set(MONITORING_RESOURCE_TYPES),
      );
    });
  });
});
