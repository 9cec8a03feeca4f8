import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { PolicyDocument } from "../../../constructs/core/iam";
import { DataBucketReference, dataBucketName } from "../../../constructs/data/data-bucket-reference";
import {
  LOCATION,
  NAMING,
  allows,
  onlyResourceOf,
  policyOf,
  synthStack,
  testStack,
} from "../../helpers/constructs";

const raw = DataBucketReference.fromPurpose({ naming: NAMING, location: LOCATION, purpose: "raw" });
const BUCKET_ARN = "arn:aws:s3:::mlops-dev-raw-111111111111";
const VIA_S3 = {
  "kms:ViaService": "s3.eu-west-1.amazonaws.com",
  "kms:ResourceAliases": "alias/mlops-dev-data",
};
const KEY = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";

describe("DataBucketReference naming", () => {
  test("computes the same name as the data stack, from configuration alone", () => {
    expect(raw.bucketName).toBe("mlops-dev-raw-111111111111");
    expect(raw.bucketName).toBe(dataBucketName(NAMING, LOCATION, "raw"));
    expect(raw.bucketArn).toBe(BUCKET_ARN);
    expect(raw.keyAliasName).toBe("alias/mlops-dev-data");
  });

  test("gives s3:// URLs of prefixes", () => {
    expect(raw.s3Url("/datasets/imagenet/")).toBe("s3://mlops-dev-raw-111111111111/datasets/imagenet");
    expect(raw.s3Url()).toBe("s3://mlops-dev-raw-111111111111");
  });
});

describe("grantRead on a prefix", () => {
  let policy: PolicyDocument;
  beforeAll(() => {
    policy = raw.policyDocument("read", "datasets/imagenet");
  });

  test("reads objects under the prefix", () => {
    expect(allows(policy, "s3:GetObject", `${BUCKET_ARN}/datasets/imagenet/train/0001.jpg`)).toBe(true);
  });

  test.each([
    "datasets/imagenet-private/0001.jpg",
    "datasets/other/0001.jpg",
    "datasets/0001.jpg",
    "secrets.txt",
  ])("cannot read %s, outside the prefix", (key) => {
    expect(allows(policy, "s3:GetObject", `${BUCKET_ARN}/${key}`)).toBe(false);
    expect(allows(policy, "s3:GetObjectVersion", `${BUCKET_ARN}/${key}`)).toBe(false);
  });

  test("lists under the prefix", () => {
    expect(allows(policy, "s3:ListBucket", BUCKET_ARN, { "s3:prefix": "datasets/imagenet/" })).toBe(true);
    expect(allows(policy, "s3:ListBucket", BUCKET_ARN, { "s3:prefix": "datasets/imagenet/train/" })).toBe(
      true,
    );
  });

  test.each(["", "datasets/", "datasets/imagenet", "datasets/imagenet-private/"])(
    "cannot list with prefix %j, which would show keys outside the prefix",
    (prefix) => {
      expect(allows(policy, "s3:ListBucket", BUCKET_ARN, { "s3:prefix": prefix })).toBe(false);
    },
  );

  test("cannot list without a prefix", () => {
    expect(allows(policy, "s3:ListBucket", BUCKET_ARN)).toBe(false);
  });

  test("cannot write or delete", () => {
    const inside = `${BUCKET_ARN}/datasets/imagenet/new.jpg`;
    expect(allows(policy, "s3:PutObject", inside)).toBe(false);
    expect(allows(policy, "s3:DeleteObject", inside)).toBe(false);
  });

  test("decrypts with the data key only through S3", () => {
    expect(allows(policy, "kms:Decrypt", KEY, VIA_S3)).toBe(true);
    expect(allows(policy, "kms:Decrypt", KEY, { "kms:ResourceAliases": "alias/mlops-dev-data" })).toBe(false);
    expect(
      allows(policy, "kms:Decrypt", KEY, { ...VIA_S3, "kms:ResourceAliases": "alias/mlops-dev-other" }),
    ).toBe(false);
  });

  test("cannot generate data keys (no writes)", () => {
    expect(allows(policy, "kms:GenerateDataKey", KEY, VIA_S3)).toBe(false);
  });

  test("uses no wildcard action or resource outside the bucket and key", () => {
    for (const s of policy.Statement) {
      expect([s.Action].flat()).not.toContain("s3:*");
      expect([s.Resource].flat()).not.toContain("*");
    }
  });
});

describe("grantReadWrite", () => {
  const policy = raw.policyDocument("readWrite", "experiments/run-1");
  const inside = `${BUCKET_ARN}/experiments/run-1/model.pt`;

  test("writes and deletes objects under the prefix", () => {
    expect(allows(policy, "s3:PutObject", inside)).toBe(true);
    expect(allows(policy, "s3:DeleteObject", inside)).toBe(true);
    expect(allows(policy, "s3:AbortMultipartUpload", inside)).toBe(true);
  });

  test("cannot write outside the prefix", () => {
    expect(allows(policy, "s3:PutObject", `${BUCKET_ARN}/experiments/run-10/model.pt`)).toBe(false);
  });

  test("cannot destroy history (no s3:DeleteObjectVersion)", () => {
    expect(allows(policy, "s3:DeleteObjectVersion", inside)).toBe(false);
  });

  test("generates data keys through S3 for uploads", () => {
    expect(allows(policy, "kms:GenerateDataKey", KEY, VIA_S3)).toBe(true);
  });
});

describe("grants on the whole bucket", () => {
  test("read the whole bucket when no prefix is given", () => {
    const policy = raw.policyDocument("read");
    expect(allows(policy, "s3:GetObject", `${BUCKET_ARN}/anything`)).toBe(true);
    expect(allows(policy, "s3:ListBucket", BUCKET_ARN)).toBe(true);
  });

  test("never reach another bucket", () => {
    const policy = raw.policyDocument("readWrite");
    expect(allows(policy, "s3:GetObject", "arn:aws:s3:::mlops-dev-raw-111111111111-copy/x")).toBe(false);
    expect(allows(policy, "s3:ListBucket", "arn:aws:s3:::mlops-dev-curated-111111111111")).toBe(false);
  });
});

describe("grant errors and resources", () => {
  test.each(["datasets/*", "../raw", "a/./b", "what?"])("refuses the prefix %j", (prefix) => {
    expect(() => raw.policyStatements("read", prefix)).toThrow(
      /must be a plain folder such as datasets\/imagenet/,
    );
  });

  test("attaches an inline policy to the role in the role's stack", () => {
    const stack = testStack();
    const role = new IamRole(stack, "Role", { name: "mlops-dev-training", assumeRolePolicy: "{}" });
    raw.grantRead(role, "datasets/imagenet");
    const inline = onlyResourceOf(synthStack(stack), "aws_iam_role_policy");
    expect(inline.role).toBe("${aws_iam_role.Role.name}");
    expect(inline.name).toBe("mlops-dev-raw-111111111111-read-datasets-imagenet");
    expect(policyOf(inline)).toEqual(raw.policyDocument("read", "datasets/imagenet"));
  });

  test("refuses the same grant twice on one role", () => {
    const stack = testStack();
    const role = new IamRole(stack, "Role", { name: "mlops-dev-training", assumeRolePolicy: "{}" });
    raw.grantRead(role, "a");
    expect(() => raw.grantRead(role, "a")).toThrow(/already has a grant/);
  });
});
