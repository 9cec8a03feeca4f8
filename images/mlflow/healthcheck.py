"""Liveness: the server answers, and the database does not refuse the credentials it started with.

RDS rotates the managed master password; a pod that started before a rotation fails this check and is
restarted by Kubernetes, and its entrypoint then reads the new password. A database that cannot be reached
(a failover, maintenance) does not fail it: restarting every replica at once would not bring the database
back, and would turn a short outage into a longer one.
"""

import json
import os
import sys
import urllib.request

import psycopg2

DATABASE_FILE = os.environ.get("MLFLOW_DATABASE_FILE", "/scratch/mlflow/database.json")

try:
    with urllib.request.urlopen(f"http://127.0.0.1:{os.environ.get('MLFLOW_PORT', '5000')}/health", timeout=5) as response:
        if response.status != 200:
            sys.exit(f"health endpoint answered {response.status}")
    with open(DATABASE_FILE, encoding="utf-8") as handle:
        database = json.load(handle)
except Exception as error:  # noqa: BLE001 - any failure of the server itself means "not alive"
    sys.exit(f"unhealthy: {type(error).__name__}")

try:
    psycopg2.connect(
        host=database["host"],
        port=database["port"],
        user=database["user"],
        password=database["password"],
        dbname=database["dbname"],
        sslmode="verify-full",
        sslrootcert="/opt/mlflow/rds-global-bundle.pem",
        connect_timeout=5,
    ).close()
except psycopg2.OperationalError as error:
    # Only a refused password is cured by a restart; PostgreSQL says so in the message (SQLSTATE 28P01).
    if "password authentication failed" in str(error):
        sys.exit("unhealthy: the database refused the password this pod started with")
