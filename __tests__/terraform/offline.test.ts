/**
 * The strongest proof that what we synthesize is real Terraform: every AWS-only stack of every environment
 * passes `terraform validate` against hashicorp/aws 5.100.0 from the local mirror, and `terraform plan
 * -refresh=false` with mock credentials wherever no other stack's state is needed.
 *
 * Where Terraform or the mirror is missing, the whole block is reported as skipped, with the reason in its
 * name, never as passed.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEnvironments } from "../../environments/load";
import { buildApp } from "../../stacks/app";
import {
  checkStacksOffline,
  isAwsOnly,
  offlineTerraformEnv,
  offlineUnavailableReasonSync,
  readSynthesizedStacks,
  type StackCheck,
  type SynthesizedStack,
} from "../../tools/lib/terraform";
import { ROOT } from "../helpers/synth";

const reason = offlineUnavailableReasonSync();
const describeOffline = reason ? describe.skip : describe;
const title = reason ? `offline Terraform checks (skipped: ${reason})` : "offline Terraform checks";

describeOffline(title, () => {
  const work = mkdtempSync(join(tmpdir(), "mlops-offline-"));
  const outdir = join(work, "cdktf.out");
  const environments = loadEnvironments(join(ROOT, "environments"));
  buildApp({ environments, offline: true, outdir }).app.synth();
  const stacks = readSynthesizedStacks(outdir);
  const awsStacks = stacks.filter(isAwsOnly);
  const checks = new Map<string, StackCheck>();

  beforeAll(
    async () => {
      const env = offlineTerraformEnv(work);
      const results = await checkStacksOffline(awsStacks, env, (stack) => ({
        validate: true,
        plan: !stack.readsRemoteState,
      }));
      for (const result of results) checks.set(result.stack, result);
    },
    15 * 60 * 1000,
  );

  it("covers the AWS stacks of every environment", () => {
    for (const environment of environments) {
      for (const part of ["bootstrap", "data", "platform"]) {
        expect(awsStacks.map((stack) => stack.name)).toContain(
          `${environment.project}-${environment.name}-${part}`,
        );
      }
    }
  });

  it("has no AWS stack that needs another stack's state to plan", () => {
    expect(awsStacks.filter((stack) => stack.readsRemoteState).map((stack) => stack.name)).toEqual([]);
  });

  const output = (check: StackCheck, step: "init" | "validate" | "plan") => {
    const result = check[step];
    return result ? `${result.stdout}\n${result.stderr}`.trim() : "(did not run)";
  };

  describe.each(awsStacks.map((stack): [string, SynthesizedStack] => [stack.name, stack]))(
    "%s",
    (name, stack) => {
      it("initializes from the provider mirror", () => {
        const check = checks.get(name)!;
        expect({ code: check.init.code, output: check.init.code === 0 ? "" : output(check, "init") }).toEqual(
          {
            code: 0,
            output: "",
          },
        );
      });

      it("passes terraform validate", () => {
        const check = checks.get(name)!;
        expect(check.validate?.code === 0 ? "valid" : output(check, "validate")).toBe("valid");
      });

      if (!stack.readsRemoteState) {
        it("plans offline with mock credentials", () => {
          const check = checks.get(name)!;
          expect(check.plan?.code === 0 ? "planned" : output(check, "plan")).toBe("planned");
          expect(check.counts?.destroy).toBe(0);
        });
      }
    },
  );
});
