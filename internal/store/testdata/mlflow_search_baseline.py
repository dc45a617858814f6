"""Baseline for BenchmarkSearchRuns100k: MLflow's own SQL store on the same data.

Seeds MLflow's schema (SQLite) with 100,000 runs of one experiment (latest metrics rmse and
accuracy, params model and lr, the values BenchmarkSearchRuns100k uses), then times
SqlAlchemyStore.search_runs for `metrics.rmse < 0.2 and params.model = 'm3'` ordered by
`metrics.accuracy DESC`, 100 runs a page: the store call MLflow's server makes for runs/search,
without its HTTP layer. Usage: python mlflow_search_baseline.py [iterations]
"""
import os
import sqlite3
import sys
import tempfile
import time

from mlflow.entities import ViewType
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

N = 100_000
iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 10
work = tempfile.mkdtemp()
db = os.path.join(work, "mlflow.db")
store = SqlAlchemyStore(f"sqlite:///{db}", os.path.join(work, "artifacts"))
exp = store.create_experiment("bench")


def frac(i, salt):
    return ((i * 7919 + salt * 104729) % 1000) / 1000


con = sqlite3.connect(db)
ids = [f"{i:032x}" for i in range(N)]
con.executemany(
    "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time,"
    " end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) VALUES (?, ?, 'LOCAL', '', '', 'bench',"
    " 'FINISHED', ?, NULL, '', 'active', 'x', ?)",
    [(ids[i], f"run-{i}", 1_700_000_000_000 + i, int(exp)) for i in range(N)])
con.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, 1, 0, 0, ?)",
                [(k, frac(i, j), ids[i]) for i in range(N) for j, k in enumerate(["rmse", "accuracy"])])
con.executemany("INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, 1, 0, 0, ?)",
                [(k, frac(i, j), ids[i]) for i in range(N) for j, k in enumerate(["rmse", "accuracy"])])
con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
                [(k, v, ids[i]) for i in range(N) for k, v in (("model", f"m{i % 10}"), ("lr", f"{frac(i, 3):g}"))])
con.commit()
con.execute("ANALYZE")
con.close()

runs = store.search_runs([exp], "metrics.rmse < 0.2 and params.model = 'm3'", ViewType.ACTIVE_ONLY, max_results=100,
                         order_by=["metrics.accuracy DESC"])
assert len(runs) == 100, len(runs)
start = time.perf_counter()
for _ in range(iterations):
    store.search_runs([exp], "metrics.rmse < 0.2 and params.model = 'm3'", ViewType.ACTIVE_ONLY, max_results=100,
                      order_by=["metrics.accuracy DESC"])
per = (time.perf_counter() - start) / iterations
print(f"mlflow SqlAlchemyStore.search_runs, 100k runs, SQLite: {per * 1000:.1f} ms/op over {iterations} iterations")
