import type { PolicyStatement } from "../core/iam";

/**
 * Denies every request to the bucket and its objects made without TLS (`aws:SecureTransport` false), the
 * statement AWS Config's `s3-bucket-ssl-requests-only` rule looks for.
 */
export function denyInsecureTransport(bucketArn: string): PolicyStatement {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}
