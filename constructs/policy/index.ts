/** The policy pack: rules over synthesized Terraform JSON, their suppressions, and the stack validation. */
export * from "./engine";
export * from "./documents";
export * from "./stateful";
export * from "./report";
export { RULES, ruleById } from "./rules";
export { PolicySuppressions, SUPPRESSION_METADATA } from "./policy-suppressions";
export { PolicyPack, type PolicyPackProps } from "./policy-pack";
