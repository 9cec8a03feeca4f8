import { keyStatement } from "../../../constructs/serving/model-access";
import { LOCATION } from "../../helpers/constructs";

const ALIAS = { aliasName: "mlops-dev-data" };

describe("keyStatement", () => {
  test("a key known by alias covers the account's keys narrowed to that alias", () => {
    expect(keyStatement(LOCATION, "UseKey", ALIAS, ["kms:Decrypt"])).toEqual({
      Sid: "UseKey",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: "arn:aws:kms:eu-west-1:111111111111:key/*",
      Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/mlops-dev-data" } },
    });
  });

  test("a caller's conditions under the same operators are merged, not overwritten", () => {
    const statement = keyStatement(LOCATION, "UseKey", ALIAS, ["kms:Decrypt"], {
      viaService: "s3",
      condition: {
        StringEquals: { "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::mlops-dev-raw" },
        "ForAnyValue:StringEquals": { "kms:EncryptionContextKeys": "aws:s3:arn" },
        Bool: { "kms:GrantIsForAWSResource": "true" },
      },
    });
    expect(statement.Condition).toEqual({
      StringEquals: {
        "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::mlops-dev-raw",
        "kms:ViaService": "s3.eu-west-1.amazonaws.com",
      },
      "ForAnyValue:StringEquals": {
        "kms:EncryptionContextKeys": "aws:s3:arn",
        "kms:ResourceAliases": "alias/mlops-dev-data",
      },
      Bool: { "kms:GrantIsForAWSResource": "true" },
    });
  });

  test("does not change the caller's condition object", () => {
    const condition = { StringEquals: { "aws:PrincipalTag/team": "vision" } };
    keyStatement(LOCATION, "UseKey", ALIAS, ["kms:Decrypt"], { viaService: "s3", condition });
    expect(condition).toEqual({ StringEquals: { "aws:PrincipalTag/team": "vision" } });
  });

  test("refuses a condition key the statement sets itself, rather than dropping either", () => {
    expect(() =>
      keyStatement(LOCATION, "UseKey", ALIAS, ["kms:Decrypt"], {
        viaService: "s3",
        condition: { StringEquals: { "kms:ViaService": "sagemaker.eu-west-1.amazonaws.com" } },
      }),
    ).toThrow(/UseKey: condition StringEquals kms:ViaService is set by the statement itself/);
    expect(() =>
      keyStatement(LOCATION, "UseKey", ALIAS, ["kms:Decrypt"], {
        condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/other" } },
      }),
    ).toThrow(/ForAnyValue:StringEquals kms:ResourceAliases/);
  });

  test("a key known by ARN gets no condition unless one is asked for", () => {
    const keyArn = "arn:aws:kms:eu-west-1:111111111111:key/1234";
    expect(keyStatement(LOCATION, "UseKey", { keyArn }, ["kms:Decrypt"])).toEqual({
      Sid: "UseKey",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: keyArn,
    });
  });
});
