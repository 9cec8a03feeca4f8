import { TerraformStack, Testing } from "cdktf";
import { PodIdentityRole } from "../../../constructs/training/pod-identity-role";
import { onlyResource, resourcesOf, synthStack, type StackJson } from "../../helpers/synth";

describe("PodIdentityRole", () => {
  let json: StackJson;
  beforeAll(() => {
    const stack = new TerraformStack(Testing.app(), "test");
    const role = new PodIdentityRole(stack, "Role", {
      roleName: "mlops-dev-training-jobs",
      accountId: "111111111111",
      clusterArn: "arn:aws:eks:eu-west-1:111111111111:cluster/mlops-dev-eks",
      managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"],
    });
    role.addToPolicy({ Action: "s3:GetObject", Resource: "arn:aws:s3:::mlops-dev-raw/*" });
    role.addToPolicy({ Action: "s3:ListBucket", Resource: "arn:aws:s3:::mlops-dev-raw" });
    json = synthStack(stack);
  });

  it("is trusted by EKS Pod Identity for AssumeRole and TagSession, from this account and cluster only", () => {
    const trust = JSON.parse(onlyResource(json, "aws_iam_role").assume_role_policy as string);
    expect(trust.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: {
          StringEquals: { "aws:SourceAccount": "111111111111" },
          ArnEquals: { "aws:SourceArn": "arn:aws:eks:eu-west-1:111111111111:cluster/mlops-dev-eks" },
        },
      },
    ]);
  });

  it("collects added statements in one inline policy", () => {
    const policy = JSON.parse(onlyResource(json, "aws_iam_role_policy").policy as string);
    expect(policy.Statement).toEqual([
      { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::mlops-dev-raw/*" },
      { Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::mlops-dev-raw" },
    ]);
  });

  it("attaches the managed policies it is given", () => {
    expect(
      Object.values(resourcesOf(json, "aws_iam_role_policy_attachment")).map((a) => a.policy_arn),
    ).toEqual(["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]);
  });
});
