"""Hyper-parameter search on Dask: GridSearchCV through joblib's Dask backend on a local
cluster of worker *processes* gives the same search as running it in this process.

The test runs the recipe of docs/ecosystem.md as written (a classifier in a Pipeline), and a
regressor search on the same cluster; on a real cluster only the Client's address changes.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ecosystem_blocks

pytest.importorskip("sklearn")
distributed = pytest.importorskip("dask.distributed")

import dask  # noqa: E402
import joblib  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402

from glassnet.sklearn import GlassNetRegressor  # noqa: E402


def regressor_search():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(150, 2))
    y = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] ** 2
    search = GridSearchCV(
        GlassNetRegressor(epochs=15, batch_size=32, random_state=0),
        {"hidden_layer_sizes": [(4,), (32, 32)], "learning_rate": [0.003, 0.03]},
        cv=KFold(3, shuffle=True, random_state=0),
        n_jobs=-1,
    )
    return search, X, y


def test_grid_search_on_a_dask_cluster_matches_the_sequential_search(tmp_path):
    prepare, connect, search_on_dask = ecosystem_blocks("Hyper-parameter search on Dask")
    doc = {}
    exec(compile(prepare, "docs/ecosystem.md Dask block 1", "exec"), doc)  # + sequential fit
    regressor, X, y = regressor_search()
    regressor_sequential = clone(regressor).set_params(n_jobs=1).fit(X, y)

    # the scheduler's and the workers' scratch folders go under tmp_path, not /tmp
    with dask.config.set({"temporary-directory": str(tmp_path)}):
        exec(compile(connect, "docs/ecosystem.md Dask block 2", "exec"), doc)  # LocalCluster
        try:
            client = doc["client"]
            workers = set(client.scheduler_info()["workers"])
            with distributed.get_task_stream(client) as tasks:
                with joblib.parallel_config(backend="dask"):
                    regressor.fit(X, y)
            # the recipe's search on Dask: asserts the same best parameters, closes the cluster
            exec(compile(search_on_dask, "docs/ecosystem.md Dask block 3", "exec"), doc)
        finally:
            doc["client"].close()
            doc["cluster"].close()

    assert len(workers) == 2
    ran_on = {task["worker"] for task in tasks.data}
    assert tasks.data and ran_on <= workers  # the fits ran in the worker processes
    pairs = [(doc["sequential"], doc["search"]), (regressor_sequential, regressor)]
    for sequential, on_dask in pairs:
        assert on_dask.best_params_ == sequential.best_params_
        np.testing.assert_allclose(
            on_dask.cv_results_["mean_test_score"],
            sequential.cv_results_["mean_test_score"],
            rtol=1e-6,
        )
        scores = sequential.cv_results_["mean_test_score"]
        assert scores.max() > scores.min() + 0.05  # a search with a clear winner
