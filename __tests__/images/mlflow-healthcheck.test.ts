/**
 * The MLflow image's liveness probe (images/mlflow/healthcheck.py), run by Python against a local /health
 * endpoint and a stand-in for psycopg2 that fails the way PostgreSQL does. Skipped, with the reason in its
 * name, where there is no python3.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../tools/lib/terraform";
import { ROOT } from "../helpers/config";

const hasPython = spawnSync("python3", ["--version"]).status === 0;
const describePython = hasPython ? describe : describe.skip;
const title = hasPython ? "the MLflow liveness probe" : "the MLflow liveness probe (skipped: no python3)";

/**
 * psycopg2 as far as the probe uses it: `connect` waits STUB_CONNECT_SECONDS (as a lookup DNS does not answer
 * would), then fails with the message in STUB_CONNECT_ERROR, if any.
 */
const STUB_PSYCOPG2 = `
import os
import time


class OperationalError(Exception):
    pass


class _Connection:
    def close(self):
        pass


def connect(**kwargs):
    time.sleep(float(os.environ.get("STUB_CONNECT_SECONDS") or "0"))
    message = os.environ.get("STUB_CONNECT_ERROR")
    if message:
        raise OperationalError(message)
    return _Connection()
`;

describePython(title, () => {
  const work = mkdtempSync(join(tmpdir(), "mlflow-healthcheck-"));
  let status = 200;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    mkdirSync(join(work, "stubs", "psycopg2"), { recursive: true });
    writeFileSync(join(work, "stubs", "psycopg2", "__init__.py"), STUB_PSYCOPG2);
    writeFileSync(
      join(work, "database.json"),
      JSON.stringify({ host: "db", port: 5432, user: "mlflow", password: "old", dbname: "mlflow" }),
    );
    server = createServer((request, response) => {
      response.statusCode = request.url === "/health" ? status : 404;
      response.end("OK");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(work, { recursive: true, force: true });
  });

  const probe = (connectError = "", env: Record<string, string> = {}) =>
    run("python3", [join(ROOT, "images", "mlflow", "healthcheck.py")], {
      cwd: work,
      env: {
        ...process.env,
        PYTHONPATH: join(work, "stubs"),
        MLFLOW_PORT: String(port),
        MLFLOW_DATABASE_FILE: join(work, "database.json"),
        STUB_CONNECT_ERROR: connectError,
        ...env,
      },
    });

  beforeEach(() => {
    status = 200;
  });

  it("passes when the server answers and the database takes the password", async () => {
    expect(await probe()).toMatchObject({ code: 0 });
  });

  it("fails when the database refuses the password the pod started with (a rotation)", async () => {
    const result = await probe('FATAL:  password authentication failed for user "mlflow"');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("the database refused the password this pod started with");
  });

  it("passes while the database cannot be reached: restarting every replica would not bring it back", async () => {
    const result = await probe('connection to server at "db" (10.0.0.5), port 5432 failed: timeout expired');
    expect(result).toMatchObject({ code: 0 });
  });

  it("passes within its deadline when connecting hangs (DNS that does not answer), not after the probe's timeout", async () => {
    const started = Date.now();
    const result = await probe("", { STUB_CONNECT_SECONDS: "30", MLFLOW_DATABASE_DEADLINE_SECONDS: "1" });
    expect(result).toMatchObject({ code: 0 });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("fails when its own credentials file is broken", async () => {
    const broken = join(work, "broken.json");
    writeFileSync(broken, JSON.stringify({ host: "db" }));
    const result = await probe("", { MLFLOW_DATABASE_FILE: broken });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unhealthy: KeyError");
  });

  it("fails when the server's health endpoint does not answer 200", async () => {
    status = 503;
    const result = await probe();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unhealthy");
  });
});
