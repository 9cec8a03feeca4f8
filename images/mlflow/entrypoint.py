"""Starts the MLflow tracking server with basic-auth, taking every credential from AWS at run time.

Nothing secret is baked into the image, the Kubernetes manifests or Terraform:
- the database endpoint and its master-password secret come from `rds:DescribeDBInstances`;
- the MLflow admin and workloads credentials live in Secrets Manager secrets that Terraform creates empty;
  the first pod to start fills each one with `GetRandomPassword` (a fixed ClientRequestToken makes two pods
  starting together agree on one value);
- the AWS credentials are EKS Pod Identity's.

The first start of an environment (table creation, schema upgrades, the admin user) is serialized across
replicas with a PostgreSQL advisory lock. Credentials are written only to /scratch (an emptyDir), mode 0600.

With MLFLOW_PROMETHEUS_DIR and MLFLOW_METRICS_PORT set, the server runs with `--expose-prometheus`: its
gunicorn workers record prometheus_flask_exporter samples (`mlflow_http_request_*`) in that directory.
MLflow serves them at /metrics on the API port, where basic-auth asks for a password that Prometheus does
not have, so this process serves the same samples, plus `mlflow_server_healthy`, without authentication
on the metrics port, which the Kubernetes NetworkPolicy opens to the monitoring namespace only.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3
import psycopg2
from botocore.exceptions import ClientError

RUN_DIR = "/scratch/mlflow"
CA_BUNDLE = "/opt/mlflow/rds-global-bundle.pem"
AUTH_DATABASE = "mlflow_auth"
ADMIN_USERNAME = "admin"
WORKLOADS_USERNAME = "workloads"
# Any constant works; it only has to be the same in every replica.
INITIAL_VERSION_TOKEN = "00000000-0000-4000-8000-000000000001"
INIT_LOCK_ID = 7_011_001


def log(message):
    print(f"mlflow-entrypoint: {message}", flush=True)


def credential(secrets, secret_id, username):
    """The secret's {username, password}; generates and stores it when the secret has no value yet."""
    try:
        return json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    log(f"{secret_id} has no value yet; generating one")
    password = secrets.get_random_password(PasswordLength=40, ExcludePunctuation=True)["RandomPassword"]
    try:
        secrets.put_secret_value(
            SecretId=secret_id,
            SecretString=json.dumps({"username": username, "password": password}),
            ClientRequestToken=INITIAL_VERSION_TOKEN,
        )
    except ClientError as error:
        # Another replica stored its value under the same token first; use that one.
        if error.response["Error"]["Code"] != "ResourceExistsException":
            raise
    return json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])


def database_uri(db, user, password, database):
    query = urllib.parse.urlencode({"sslmode": "verify-full", "sslrootcert": CA_BUNDLE})
    return (
        f"postgresql://{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}"
        f"@{db['host']}:{db['port']}/{database}?{query}"
    )


def connect(db, user, password, database):
    return psycopg2.connect(
        host=db["host"],
        port=db["port"],
        user=user,
        password=password,
        dbname=database,
        sslmode="verify-full",
        sslrootcert=CA_BUNDLE,
        connect_timeout=10,
    )


def wait_healthy(port, server, timeout_seconds=600):
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"mlflow-entrypoint: the server exited with {server.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(2)
    sys.exit("mlflow-entrypoint: the server did not become healthy in time")


def answers_health(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def reset_metrics_directory(directory):
    """prometheus_client needs an empty directory at start; an emptyDir outlives a container restart."""
    os.makedirs(directory, exist_ok=True)
    for entry in os.scandir(directory):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


def serve_metrics(directory, metrics_port, api_port):
    """Serves the workers' samples (multiprocess mode) and the server's health on the metrics port."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.multiprocess import MultiProcessCollector

    class HealthCollector:
        def collect(self):
            gauge = GaugeMetricFamily(
                "mlflow_server_healthy", "1 when the MLflow server answered /health during this scrape"
            )
            gauge.add_metric([], 1.0 if answers_health(api_port) else 0.0)
            yield gauge

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    registry.register(HealthCollector())
    start_http_server(int(metrics_port), addr="0.0.0.0", registry=registry)
    log(f"serving metrics on port {metrics_port}")


def ensure_workloads_user(port, admin, workloads):
    """Creates the workloads user through MLflow's auth API, or resets its password to the secret's."""
    from mlflow.exceptions import MlflowException, RestException
    from mlflow.server import get_app_client

    os.environ["MLFLOW_TRACKING_USERNAME"] = admin["username"]
    os.environ["MLFLOW_TRACKING_PASSWORD"] = admin["password"]
    client = get_app_client("basic-auth", tracking_uri=f"http://127.0.0.1:{port}")
    try:
        client.create_user(username=workloads["username"], password=workloads["password"])
        log("created the workloads user")
    except (MlflowException, RestException):
        client.update_user_password(username=workloads["username"], password=workloads["password"])
    finally:
        del os.environ["MLFLOW_TRACKING_USERNAME"]
        del os.environ["MLFLOW_TRACKING_PASSWORD"]


def main():
    region = os.environ["AWS_REGION"]
    port = os.environ.get("MLFLOW_PORT", "5000")
    os.makedirs(RUN_DIR, mode=0o700, exist_ok=True)
    os.umask(0o077)

    rds = boto3.client("rds", region_name=region)
    secrets = boto3.client("secretsmanager", region_name=region)
    instance = rds.describe_db_instances(DBInstanceIdentifier=os.environ["MLFLOW_DB_INSTANCE_IDENTIFIER"])[
        "DBInstances"
    ][0]
    db = {"host": instance["Endpoint"]["Address"], "port": instance["Endpoint"]["Port"]}
    tracking_database = instance["DBName"]
    master = json.loads(secrets.get_secret_value(SecretId=instance["MasterUserSecret"]["SecretArn"])["SecretString"])
    admin = credential(secrets, os.environ["MLFLOW_ADMIN_SECRET_ID"], ADMIN_USERNAME)
    workloads = credential(secrets, os.environ["MLFLOW_WORKLOADS_SECRET_ID"], WORKLOADS_USERNAME)

    # The liveness probe checks that the database still accepts the password this process started with.
    with open(f"{RUN_DIR}/database.json", "w", encoding="utf-8") as handle:
        json.dump({**db, "user": master["username"], "password": master["password"], "dbname": tracking_database}, handle)

    auth = {
        "default_permission": "READ",
        "database_uri": database_uri(db, master["username"], master["password"], AUTH_DATABASE),
        "admin_username": admin["username"],
        "admin_password": admin["password"],
        "authorization_function": "mlflow.server.auth:authenticate_request_basic_auth",
    }
    with open(f"{RUN_DIR}/basic_auth.ini", "w", encoding="utf-8") as handle:
        # MLflow reads the file with configparser's interpolation, so a literal % (URL-encoded password
        # characters) must be written as %%.
        handle.write("[mlflow]\n")
        handle.writelines(f"{key} = {value.replace('%', '%%')}\n" for key, value in auth.items())

    backend_uri = database_uri(db, master["username"], master["password"], tracking_database)
    env = {
        **os.environ,
        "MLFLOW_AUTH_CONFIG_PATH": f"{RUN_DIR}/basic_auth.ini",
        "MLFLOW_BACKEND_STORE_URI": backend_uri,
    }
    metrics_dir = os.environ.get("MLFLOW_PROMETHEUS_DIR")
    metrics_port = os.environ.get("MLFLOW_METRICS_PORT")
    expose_prometheus = []
    if metrics_dir and metrics_port:
        reset_metrics_directory(metrics_dir)
        # MLflow sets the legacy lower-case name; prometheus_client reads the upper-case one first.
        env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        expose_prometheus = ["--expose-prometheus", metrics_dir]

    lock = connect(db, master["username"], master["password"], tracking_database)
    lock.autocommit = True
    with lock.cursor() as cursor:
        log("waiting for the initialization lock")
        cursor.execute("SELECT pg_advisory_lock(%s)", (INIT_LOCK_ID,))
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (AUTH_DATABASE,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{AUTH_DATABASE}"')
            log(f"created database {AUTH_DATABASE}")
        cursor.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL")
        if cursor.fetchone()[0]:
            # An existing store: apply the schema migrations of this MLflow version (a no-op when current).
            subprocess.run(["mlflow", "db", "upgrade", backend_uri], check=True, env=env)

    server = subprocess.Popen(
        [
            "mlflow",
            "server",
            "--app-name",
            "basic-auth",
            "--host",
            "0.0.0.0",
            "--port",
            port,
            "--workers",
            os.environ.get("MLFLOW_WORKERS", "2"),
            "--serve-artifacts",
            "--artifacts-destination",
            os.environ["MLFLOW_ARTIFACTS_DESTINATION"],
            *expose_prometheus,
        ],
        env=env,
    )
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, _frame: server.send_signal(received))

    try:
        wait_healthy(port, server)
        ensure_workloads_user(port, admin, workloads)
    finally:
        lock.close()
    if expose_prometheus:
        # Only once the server is healthy, so a replica that never starts is a failed scrape, not a healthy one.
        serve_metrics(metrics_dir, metrics_port, port)
    log("ready")
    sys.exit(server.wait())


if __name__ == "__main__":
    main()
