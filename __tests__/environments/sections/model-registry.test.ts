import { DEFAULT_MLFLOW_IMAGE_TAG } from "../../../environments/sections/model-registry";
import { configFor } from "../../helpers/config";

describe("modelRegistry tier defaults", () => {
  const dev = configFor("dev").modelRegistry;
  const test_ = configFor("test").modelRegistry;
  const prod = configFor("prod").modelRegistry;

  test("dev and test are self-hosted, prod is SageMaker-managed", () => {
    expect([dev.backend, test_.backend, prod.backend]).toEqual([
      "self-hosted",
      "self-hosted",
      "sagemaker-managed",
    ]);
  });

  test("dev has a micro single-zone database with one day of backups and no final snapshot", () => {
    expect(dev.database).toMatchObject({
      instanceClass: "db.t4g.micro",
      multiAz: false,
      backupRetentionDays: 1,
      deletionProtection: false,
      skipFinalSnapshot: true,
    });
  });

  test("test keeps a week of backups, a final snapshot and deletion protection", () => {
    expect(test_.database).toMatchObject({
      backupRetentionDays: 7,
      skipFinalSnapshot: false,
      deletionProtection: true,
    });
  });

  test("prod's database is Multi-AZ with two weeks of backups", () => {
    expect(prod.database).toMatchObject({ multiAz: true, backupRetentionDays: 14, deletionProtection: true });
  });

  test("the database runs PostgreSQL 16 by major version, and major upgrades are off", () => {
    for (const registry of [dev, test_, prod]) {
      expect(registry.database).toMatchObject({ engineVersion: "16", allowMajorVersionUpgrade: false });
    }
  });

  test("dev runs one server pod, test and prod two", () => {
    expect([dev.server.replicas, test_.server.replicas, prod.server.replicas]).toEqual([1, 2, 2]);
  });

  test("the image defaults to the release tag built from images/mlflow", () => {
    expect(dev.server.image).toEqual({ tag: DEFAULT_MLFLOW_IMAGE_TAG });
  });

  test("the managed server is Small in dev and Medium in prod, maintained on Sundays", () => {
    expect([dev.managed.size, prod.managed.size]).toEqual(["Small", "Medium"]);
    expect(prod.managed.weeklyMaintenanceWindowStart).toBe("SUN:03:00");
  });

  test("artifacts go under mlflow/ and no identity provider is set", () => {
    expect(dev.artifactPrefix).toBe("mlflow");
    expect(dev.loadBalancer.identityProvider).toBeUndefined();
  });
});

describe("modelRegistry errors", () => {
  const fails = (name: string, modelRegistry: Record<string, unknown>) => () =>
    configFor(name, { modelRegistry });

  test("the latest tag is refused", () => {
    expect(fails("dev", { server: { image: { tag: "latest" } } })).toThrow(
      /modelRegistry\.server\.image\.tag: must not be latest/,
    );
  });

  test("a tag and a digest together are refused", () => {
    expect(fails("dev", { server: { image: { tag: "1", digest: `sha256:${"a".repeat(64)}` } } })).toThrow(
      /modelRegistry\.server\.image: must give exactly one of tag and digest/,
    );
  });

  test("a digest alone is accepted", () => {
    const digest = `sha256:${"b".repeat(64)}`;
    expect(
      configFor("dev", { modelRegistry: { server: { image: { digest } } } }).modelRegistry.server.image,
    ).toEqual({
      digest,
    });
  });

  test("an identity provider without a certificate is refused", () => {
    const identityProvider = {
      issuer: "https://login.example.com",
      authorizationEndpoint: "https://login.example.com/authorize",
      tokenEndpoint: "https://login.example.com/token",
      userInfoEndpoint: "https://login.example.com/userinfo",
      clientSecretName: "mlflow-oidc",
    };
    expect(fails("dev", { loadBalancer: { identityProvider } })).toThrow(
      /modelRegistry\.loadBalancer\.certificateArn: is required with loadBalancer\.identityProvider/,
    );
  });

  test("skipping the final snapshot outside dev is refused", () => {
    expect(fails("test", { database: { skipFinalSnapshot: true } })).toThrow(
      /modelRegistry\.database\.skipFinalSnapshot: is allowed in dev only/,
    );
  });

  test("prod with one server pod is refused", () => {
    expect(fails("prod", { server: { replicas: 1 } })).toThrow(
      /modelRegistry\.server\.replicas: must be at least 2 in prod/,
    );
  });

  test("prod with a week of backups is refused", () => {
    expect(fails("prod", { database: { backupRetentionDays: 7 } })).toThrow(
      /modelRegistry\.database\.backupRetentionDays: must be at least 14 in prod/,
    );
  });

  test("prod self-hosted is accepted with its tier defaults (the baseline of the refusals below)", () => {
    expect(
      configFor("prod", { modelRegistry: { backend: "self-hosted" } }).modelRegistry.database,
    ).toMatchObject({ multiAz: true, deletionProtection: true });
  });

  test("prod self-hosted with a single-zone database is refused", () => {
    expect(fails("prod", { backend: "self-hosted", database: { multiAz: false } })).toThrow(
      /^modelRegistry\.database\.multiAz: must be true in prod$/,
    );
  });

  test("prod self-hosted without deletion protection is refused", () => {
    expect(fails("prod", { backend: "self-hosted", database: { deletionProtection: false } })).toThrow(
      /^modelRegistry\.database\.deletionProtection: must be true in prod$/,
    );
  });

  test("a server request above its limit is refused, Kubernetes would refuse the pod", () => {
    expect(fails("dev", { server: { cpuRequest: "2500m" } })).toThrow(
      /modelRegistry\.server\.cpuRequest: exceeds server\.cpuLimit \(2\), and Kubernetes refuses a request above its limit; lower this or raise server\.cpuLimit/,
    );
    expect(fails("dev", { server: { memoryRequest: "1.5Gi", memoryLimit: "1500Mi" } })).toThrow(
      /modelRegistry\.server\.memoryRequest: exceeds server\.memoryLimit \(1500Mi\)/,
    );
  });

  test("a server request equal to its limit in other units is accepted", () => {
    const server = configFor("dev", {
      modelRegistry: { server: { cpuRequest: "2000m", memoryRequest: "2048Mi", memoryLimit: "2Gi" } },
    }).modelRegistry.server;
    expect(server).toMatchObject({ cpuRequest: "2000m", cpuLimit: "2", memoryRequest: "2048Mi" });
  });

  test("a minor engine version is refused with the major version to write, RDS would refuse the downgrade", () => {
    expect(fails("dev", { database: { engineVersion: "16.4" } })).toThrow(
      /^modelRegistry\.database\.engineVersion: must be a major version only; write "16"\. RDS upgrades minor versions automatically, and once it has, every plan would try to downgrade to 16\.4, which RDS refuses$/,
    );
    expect(fails("test", { database: { engineVersion: "17.2.1" } })).toThrow(
      /^modelRegistry\.database\.engineVersion: must be a major version only; write "17"\./,
    );
  });

  test("an engine version that is no version is refused", () => {
    expect(fails("dev", { database: { engineVersion: "latest" } })).toThrow(
      /^modelRegistry\.database\.engineVersion: must be a PostgreSQL major version such as 16$/,
    );
  });

  test("a new major version is accepted, with or without allowMajorVersionUpgrade", () => {
    const database = (settings: Record<string, unknown>) =>
      configFor("test", { modelRegistry: { database: settings } }).modelRegistry.database;
    expect(database({ engineVersion: "17", allowMajorVersionUpgrade: true })).toMatchObject({
      engineVersion: "17",
      allowMajorVersionUpgrade: true,
    });
    expect(database({ engineVersion: "17" })).toMatchObject({
      engineVersion: "17",
      allowMajorVersionUpgrade: false,
    });
  });

  test("allowMajorVersionUpgrade must be a boolean", () => {
    expect(fails("dev", { database: { allowMajorVersionUpgrade: "yes" } })).toThrow(
      /modelRegistry\.database\.allowMajorVersionUpgrade: /,
    );
  });

  test("an unknown backend is refused", () => {
    expect(fails("dev", { backend: "on-prem" })).toThrow(
      /modelRegistry\.backend: must be one of self-hosted, sagemaker-managed/,
    );
  });

  test("an unknown key is refused", () => {
    expect(fails("dev", { databse: {} })).toThrow(/modelRegistry\.databse: is not a known setting/);
  });
});

describe("modelRegistry against the rest of the environment", () => {
  test("removing the model-artifacts bucket is refused", () => {
    expect(() => configFor("dev", { data: { buckets: { "model-artifacts": null } } })).toThrow(
      /data\.buckets: must keep the model-artifacts bucket/,
    );
  });

  test("removing the mlflow repository is refused while the registry is self-hosted", () => {
    expect(() => configFor("dev", { registry: { repositories: { mlflow: null } } })).toThrow(
      /registry\.repositories: must keep the mlflow repository/,
    );
  });

  test("removing the mlflow repository is accepted with the managed backend", () => {
    const config = configFor("dev", {
      modelRegistry: { backend: "sagemaker-managed" },
      registry: { repositories: { mlflow: null } },
    });
    expect(Object.keys(config.registry.repositories)).not.toContain("mlflow");
  });
});

describe("modelRegistry in a one-zone environment", () => {
  const oneZone = { aws: { availabilityZones: ["eu-west-1a"] } };

  test("self-hosted is refused (the database needs two zones)", () => {
    expect(() => configFor("dev", oneZone)).toThrow(
      /modelRegistry\.backend: self-hosted needs at least 2 availability zones/,
    );
  });

  test("sagemaker-managed is accepted", () => {
    expect(
      configFor("dev", { ...oneZone, modelRegistry: { backend: "sagemaker-managed" } }).modelRegistry.backend,
    ).toBe("sagemaker-managed");
  });
});
