import { join } from "node:path";
import { renderDiagram } from "../../../tools/lib/diagram";
import { readSynthOutput, type SynthOutput } from "../../../tools/lib/review/synth-output";

describe("renderDiagram", () => {
  let head: SynthOutput;
  beforeAll(() => {
    head = readSynthOutput(join(__dirname, "fixtures", "head"));
  });

  test("draws each stack of the environment as a subgraph, in a Mermaid flowchart", () => {
    const text = renderDiagram(head, "dev");
    expect(text.startsWith("flowchart LR\n")).toBe(true);
    expect(text).toContain('subgraph s_mlops_dev_data["mlops-dev-data"]');
    expect(text).toContain('subgraph s_mlops_dev_platform["mlops-dev-platform"]');
  });

  test("draws main resources with their names and data stores as cylinders", () => {
    expect(renderDiagram(head, "dev")).toMatch(/n\d+\[\("S3 bucket<br\/>mlops-dev-raw"\)\]/);
  });

  test("leaves out resources that are not main ones", () => {
    expect(renderDiagram(head, "dev")).not.toContain("aws_s3_bucket_public_access_block");
  });

  test("draws the deploy order between stacks", () => {
    expect(renderDiagram(head, "dev")).toContain(
      "s_mlops_dev_data -.->|deploys before| s_mlops_dev_platform",
    );
  });

  test("highlights changed resources by action", () => {
    const highlight = new Map([["mlops-dev-data|aws_s3_bucket.RawDataBucket", "replace" as const]]);
    const text = renderDiagram(head, "dev", { highlight });
    expect(text).toMatch(/classDef replace fill:#ffebe9/);
    expect(text).toMatch(/class n\d+ replace/);
  });

  test("can draw only the changed resources", () => {
    const highlight = new Map([
      ["mlops-dev-data|aws_s3_bucket_public_access_block.ModelsPublicAccessBlock", "update" as const],
    ]);
    const text = renderDiagram(head, "dev", { highlight, changedOnly: true });
    expect(text).toContain("ModelsPublicAccessBlock");
    expect(text).not.toContain("mlops-dev-platform");
  });

  test("an environment without stacks gives an empty flowchart", () => {
    expect(renderDiagram(head, "prod")).toBe("flowchart LR\n");
  });
});
