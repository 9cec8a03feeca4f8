"""Liveness: the server answers, and the database does not refuse the credentials it started with.

RDS rotates the managed master password; a pod that started before a rotation fails this check and is
restarted by Kubernetes, and its entrypoint then reads the new password. A database that cannot be reached
(a failover, maintenance) does not fail it: restarting every replica at once would not bring the database
back, and would turn a short outage into a longer one.
"""

import json
import os
import sys
import threading
import urllib.request

import psycopg2

DATABASE_FILE = os.environ.get("MLFLOW_DATABASE_FILE", "/scratch/mlflow/database.json")
# connect_timeout does not cover resolving the host name, which takes far longer when DNS does not answer: the
# whole database step gets this many seconds, well inside the probe's timeout. Running out of them means the
# database cannot be reached, which is no reason to restart this pod.
DATABASE_DEADLINE_SECONDS = float(os.environ.get("MLFLOW_DATABASE_DEADLINE_SECONDS", "7"))

try:
    with urllib.request.urlopen(f"http://127.0.0.1:{os.environ.get('MLFLOW_PORT', '5000')}/health", timeout=5) as response:
        if response.status != 200:
            sys.exit(f"health endpoint answered {response.status}")
    with open(DATABASE_FILE, encoding="utf-8") as handle:
        database = json.load(handle)
except Exception as error:  # noqa: BLE001 - any failure of the server itself means "not alive"
    sys.exit(f"unhealthy: {type(error).__name__}")

outcome = {}


def check_database():
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
        outcome["refused"] = "password authentication failed" in str(error)
    except Exception as error:  # noqa: BLE001 - a broken credentials file is this pod's own fault
        outcome["error"] = type(error).__name__


# psycopg2 lets go of the interpreter while libpq connects, so the deadline holds even while it waits on DNS.
checker = threading.Thread(target=check_database, daemon=True)
checker.start()
checker.join(DATABASE_DEADLINE_SECONDS)
if checker.is_alive():
    os._exit(0)
if outcome.get("refused"):
    sys.exit("unhealthy: the database refused the password this pod started with")
if "error" in outcome:
    sys.exit(f"unhealthy: {outcome['error']}")
