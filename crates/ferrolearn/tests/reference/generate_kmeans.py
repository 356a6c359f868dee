"""Writes the k-means reference vectors with scikit-learn:

  kmeans.json  (family "kmeans")
    kmeans_lloyd          KMeans(algorithm="lloyd", init=<given centres>, n_init=1) on a tabular
                          dataset (params.dataset, rows of data/tabular/<name>.csv without the
                          target column) or on the rows in input `x`. Inputs: `init_centres`
                          [k, d]. Outputs: `centres` [k, d], `labels` [n], `inertia` [],
                          `n_iter` []. Cases cover strict convergence, the tolerance rule,
                          max_iter cut-offs and an empty cluster relocated to the farthest row.
    kmeans_plusplus_mean  KMeans(init="k-means++", n_init=1, random_state=s) for s in
                          params.seeds (10, or 200 for wine whose two frequent minima make a
                          10-seed mean a coin toss): output `inertia_mean` [] (and `inertias`);
                          ferrolearn's mean inertia over as many seeds must not be higher.

Same format as the other files (see README.md). Run from this directory:

    python generate_kmeans.py
"""
import json
from pathlib import Path

import numpy as np
import sklearn
from sklearn.cluster import KMeans

GEN = f"sklearn {sklearn.__version__}"
DATA = Path(__file__).resolve().parents[4] / "data" / "tabular"
rng = np.random.default_rng(10)


def t(x):
    x = np.asarray(x, dtype=np.float64)
    return {"shape": list(x.shape), "data": [float(v) for v in x.ravel()]}


def ti(x):
    x = np.asarray(x)
    return {"shape": list(x.shape), "data": [int(v) for v in x.ravel()]}


def f32(x):
    """Rounds through float32 so a float32 implementation reads exactly the same inputs."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def tabular(name):
    with open(DATA / f"{name}.csv") as f:
        header = f.readline().strip().split(",")
    rows = np.loadtxt(DATA / f"{name}.csv", delimiter=",", skiprows=1)
    keep = [i for i, h in enumerate(header) if h != "target"]
    return rows[:, keep]


def blobs(n, d, k, spread):
    centres = rng.normal(scale=5.0, size=(k, d))
    return f32(centres[rng.integers(0, k, n)] + rng.normal(scale=spread, size=(n, d)))


def lloyd_case(name, x, init, max_iter=300, tol=1e-4, dataset=None):
    km = KMeans(
        n_clusters=len(init), init=init, n_init=1, max_iter=max_iter, tol=tol,
        algorithm="lloyd",
    ).fit(x)
    params = {"k": len(init), "max_iter": max_iter, "tol": tol}
    inputs = {"init_centres": t(init)}
    if dataset is None:
        inputs["x"] = t(x)
    else:
        params["dataset"] = dataset
    print(f"{name}: n_iter {km.n_iter_}, inertia {km.inertia_:.6g}, "
          f"sizes {np.bincount(km.labels_, minlength=len(init)).tolist()}")
    return {
        "name": name, "op": "kmeans_lloyd", "params": params, "inputs": inputs,
        "outputs": {"centres": t(km.cluster_centers_), "labels": ti(km.labels_),
                    "inertia": t(km.inertia_), "n_iter": ti(km.n_iter_)},
        "grads": {}, "upstream": None, "tol": {"rtol": 1e-6, "atol": 1e-9},
    }


def rows(x, k):
    return x[rng.choice(len(x), k, replace=False)]


def main():
    cases = []
    iris, wine, digits = tabular("iris"), tabular("wine"), tabular("digits")
    cases.append(lloyd_case("iris_k3", iris, rows(iris, 3), dataset="iris"))
    cases.append(lloyd_case("iris_k5_max_iter_2", iris, rows(iris, 5), max_iter=2, dataset="iris"))
    cases.append(lloyd_case("wine_k3", wine, rows(wine, 3), dataset="wine"))
    cases.append(lloyd_case("wine_k4_tol_0", wine, rows(wine, 4), tol=0.0, dataset="wine"))
    cases.append(lloyd_case("digits_k10", digits, rows(digits, 10), dataset="digits"))
    cases.append(lloyd_case("digits_k10_tol_1e-2", digits, rows(digits, 10), tol=1e-2,
                            dataset="digits"))
    x = blobs(400, 6, 5, 1.5)
    cases.append(lloyd_case("blobs_400x6_k5", x, rows(x, 5)))
    x = f32(rng.normal(size=(300, 4)))
    cases.append(lloyd_case("gaussian_300x4_k7", x, rows(x, 7)))
    # One initial centre far from every row: its cluster is empty after the first assignment
    # and takes the row farthest from its centre.
    x = blobs(200, 3, 3, 0.5)
    init = np.vstack([rows(x, 3), [[1e3, 1e3, 1e3]]])
    cases.append(lloyd_case("blobs_empty_cluster_relocated", x, init))
    # Wine with k = 3 has two frequent local minima (2.37e6 and 2.63e6): over 10 seeds
    # scikit-learn lands in the worse one 2 times (mean 2.42e6), over 200 seeds 70 times
    # (mean 2.46e6), so that case compares means over 200 seeds.
    for dataset, data, k, n_seeds in [
        ("digits", digits, 10, 10), ("iris", iris, 3, 10), ("wine", wine, 3, 200),
    ]:
        seeds = list(range(n_seeds))
        inertias = [KMeans(n_clusters=k, n_init=1, random_state=s).fit(data).inertia_
                    for s in seeds]
        print(f"k-means++ {dataset} k={k}: sklearn mean inertia over {n_seeds} seeds "
              f"{np.mean(inertias):.6g}")
        cases.append({
            "name": f"plusplus_{dataset}_k{k}_{n_seeds}_seeds", "op": "kmeans_plusplus_mean",
            "params": {"dataset": dataset, "k": k, "seeds": seeds, "max_iter": 300,
                       "tol": 1e-4},
            "inputs": {}, "outputs": {"inertia_mean": t(np.mean(inertias)),
                                      "inertias": t(inertias)},
            "grads": {}, "upstream": None, "tol": {"rtol": 0.0, "atol": 0.0},
        })
    out = {"family": "kmeans", "generator": GEN, "cases": cases}
    Path(__file__).with_name("kmeans.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main()
