/** The MLflow image is reproducible and unprivileged: pinned base and packages, a numeric non-root user. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/config";

const dir = join(ROOT, "images", "mlflow");
const dockerfile = readFileSync(join(dir, "Dockerfile"), "utf8");
const requirements = readFileSync(join(dir, "requirements.txt"), "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"));

describe("images/mlflow", () => {
  test("builds from a Python base image pinned to a patch version", () => {
    expect(dockerfile).toMatch(/^ARG PYTHON_IMAGE=python:3\.\d+\.\d+-slim-\w+$/m);
    expect(dockerfile).toMatch(/^FROM \$\{PYTHON_IMAGE\}$/m);
  });

  test("pins every package to one version", () => {
    expect(requirements.length).toBeGreaterThan(0);
    for (const requirement of requirements)
      expect(requirement).toMatch(/^[A-Za-z0-9_.-]+(\[[a-z,]+\])?==\d+(\.\d+)+$/);
  });

  test("installs MLflow with basic-auth, the PostgreSQL driver and the AWS SDK", () => {
    const names = requirements.map((requirement) => requirement.split("==")[0]);
    expect(names).toEqual(expect.arrayContaining(["mlflow[auth]", "psycopg2-binary", "boto3"]));
  });

  test("installs the Prometheus exporter that `mlflow server --expose-prometheus` needs", () => {
    const names = requirements.map((requirement) => requirement.split("==")[0]);
    expect(names).toEqual(expect.arrayContaining(["prometheus-flask-exporter", "prometheus-client"]));
  });

  test("runs the server with --expose-prometheus and serves the samples on their own port", () => {
    const entrypoint = readFileSync(join(dir, "entrypoint.py"), "utf8");
    expect(entrypoint).toMatch(/"--expose-prometheus", metrics_dir/);
    expect(entrypoint).toMatch(/MultiProcessCollector\(registry, path=directory\)/);
    expect(entrypoint).toMatch(/start_http_server\(int\(metrics_port\)/);
    expect(entrypoint).toMatch(/os\.environ\.get\("MLFLOW_PROMETHEUS_DIR"\)/);
    expect(entrypoint).toMatch(/os\.environ\.get\("MLFLOW_METRICS_PORT"\)/);
  });

  test("runs as the numeric non-root user the Deployment expects", () => {
    const users = [...dockerfile.matchAll(/^USER (.+)$/gm)].map((match) => match[1]);
    expect(users).toEqual(["10001:10001"]);
  });

  test("starts the entrypoint that generates credentials and turns basic-auth on", () => {
    expect(dockerfile).toMatch(/^ENTRYPOINT \["python", "\/opt\/mlflow\/entrypoint.py"\]$/m);
    const entrypoint = readFileSync(join(dir, "entrypoint.py"), "utf8");
    expect(entrypoint).toMatch(/"--app-name",\s*"basic-auth"/);
    expect(entrypoint).toMatch(/get_random_password/);
  });
});
