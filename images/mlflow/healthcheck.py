"""Liveness: the server answers and the database still accepts the credentials it started with.

RDS rotates the managed master password; a pod that started before a rotation fails this check and is
restarted by Kubernetes, and its entrypoint then reads the new password.
"""

import json
import os
import sys
import urllib.request

import psycopg2

try:
    with urllib.request.urlopen(f"http://127.0.0.1:{os.environ.get('MLFLOW_PORT', '5000')}/health", timeout=5) as response:
        if response.status != 200:
            sys.exit(f"health endpoint answered {response.status}")
    with open("/scratch/mlflow/database.json", encoding="utf-8") as handle:
        database = json.load(handle)
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
except Exception as error:  # noqa: BLE001 - any failure means "not alive"
    sys.exit(f"unhealthy: {type(error).__name__}")
