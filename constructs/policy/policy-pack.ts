import {
  AnnotationMetadataEntryType,
  Aspects,
  TerraformResource,
  type IAspect,
  type TerraformStack,
} from "cdktf";
import type { IConstruct, IValidation } from "constructs";
import type { Tier } from "../../environments/tier";
import {
  evaluateStack,
  formatFinding,
  type PolicyFinding,
  type PolicyLevel,
  type PolicyRule,
  type SynthesizedStackJson,
} from "./engine";
import { PolicySuppressions } from "./policy-suppressions";
import { RULES } from "./rules";

/** Properties of a {@link PolicyPack}. */
export interface PolicyPackProps {
  /** Environment name, shown in reports. */
  readonly environment: string;
  /** Decides the default level of every rule: warn in dev, error in test and prod. */
  readonly tier: Tier;
  /**
   * Per-rule levels from the environment file (`policy.rules`).
   * @default {} (every rule at its tier's default)
   */
  readonly rules?: Readonly<Record<string, PolicyLevel>>;
  /**
   * `enforce`: failures at level error stop synthesis. `report`: they become warnings, so `npm run policy` can
   * synthesize and list every finding.
   * @default "enforce"
   */
  readonly mode?: "enforce" | "report";
  /**
   * The rules to run.
   * @default RULES (the whole pack)
   */
  readonly ruleSet?: readonly PolicyRule[];
}

/**
 * A stack that renders its Terraform JSON for the policy pack's validation and hands that same JSON to the
 * synthesizer, whose render follows validation with nothing in between that changes the stack. Rendering is
 * most of a synth's cost, so such a stack is rendered once less per synth. {@link MlopsStack} is one; on any
 * other stack the pack renders on its own.
 */
export interface IValidationRenderSharing {
  /** Renders the stack for validation and keeps the result for the synthesizer's render that follows. */
  renderForValidation(): Record<string, unknown>;
}

function sharesValidationRender(stack: object): stack is IValidationRenderSharing {
  return typeof (stack as Partial<IValidationRenderSharing>).renderForValidation === "function";
}

/**
 * The policy pack on one stack: a validation that runs after all aspects on every synth, evaluates every rule
 * over the stack's final Terraform JSON and blocks synthesis on failures at level error (test and prod by
 * default), warns on the others, and notes suppressed ones.
 *
 * It also writes what the engine needs into the synthesized JSON (the environment, tier and rule levels at
 * `//.policy`; each resource's suppressions at `//.policy_suppressions`), so tools that read `cdktf.out` reach the
 * same verdicts without the constructs.
 *
 * @example
 * PolicyPack.attach(stack, { environment: "prod", tier: "prod", rules: { "MLOPS-S3-005": "warn" } });
 */
export class PolicyPack implements IValidation {
  /** Attaches the pack to `stack`. */
  static attach(stack: TerraformStack, props: PolicyPackProps): PolicyPack {
    return new PolicyPack(stack, props);
  }

  private readonly mode: "enforce" | "report";
  private readonly ruleSet: readonly PolicyRule[];
  private validated?: readonly PolicyFinding[];

  private constructor(
    private readonly stack: TerraformStack,
    private readonly props: PolicyPackProps,
  ) {
    this.mode = props.mode ?? "enforce";
    this.ruleSet = props.ruleSet ?? RULES;
    stack.addOverride("//.policy", {
      environment: props.environment,
      tier: props.tier,
      rules: { ...(props.rules ?? {}) },
    });
    Aspects.of(stack).add(new SuppressionStamp());
    stack.node.addValidation(this);
  }

  /** Every finding on the stack as it is now (pass, fail and suppressed). */
  findings(): PolicyFinding[] {
    return this.evaluate(this.stack.toTerraform() as SynthesizedStackJson);
  }

  /**
   * The findings of the last validation, that is of the last synth (pass, fail and suppressed); undefined
   * before the first. Unlike {@link findings}, this renders nothing.
   */
  get lastFindings(): readonly PolicyFinding[] | undefined {
    return this.validated;
  }

  /** Called by cdktf after the aspects: the messages of blocking failures (synthesis stops when any). */
  validate(): string[] {
    const json = sharesValidationRender(this.stack)
      ? this.stack.renderForValidation()
      : this.stack.toTerraform();
    const constructs = new Map(this.stack.node.findAll().map((c) => [c.node.path, c] as const));
    const at = (path: string): IConstruct => constructs.get(path) ?? this.stack;
    const errors: string[] = [];
    this.validated = this.evaluate(json as SynthesizedStackJson);
    for (const finding of this.validated) {
      if (finding.result === "suppressed") {
        note(
          at(finding.path),
          AnnotationMetadataEntryType.INFO,
          `${finding.rule} suppressed: ${finding.reason}`,
        );
      } else if (finding.blocking && this.mode === "enforce") {
        errors.push(formatFinding(finding));
      } else if (finding.result === "fail") {
        note(at(finding.path), AnnotationMetadataEntryType.WARN, formatFinding(finding));
      }
    }
    return errors;
  }

  private evaluate(json: SynthesizedStackJson): PolicyFinding[] {
    return evaluateStack(json, this.ruleSet, {
      stack: this.stack.node.id,
      settings: { environment: this.props.environment, tier: this.props.tier, rules: this.props.rules },
    });
  }
}

/**
 * An annotation without the JavaScript stack trace cdktf would attach: it would put absolute paths of this
 * machine into manifest.json, and synthesis must be byte-identical everywhere.
 */
function note(construct: IConstruct, level: AnnotationMetadataEntryType, message: string): void {
  construct.node.addMetadata(level, message, { stackTrace: false });
}

/** Writes each resource's suppressions into its `//` metadata, where the engine and the tools read them. */
class SuppressionStamp implements IAspect {
  visit(node: IConstruct): void {
    if (!TerraformResource.isTerraformResource(node)) return;
    const suppressions = PolicySuppressions.of(node);
    if (suppressions.length > 0) node.addOverride("//.policy_suppressions", suppressions);
  }
}
