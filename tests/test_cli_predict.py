"""``hiermod predict FIT.nc --data new.csv``: the table equals ``Model.predict`` in process on the
same draws, the training data stored in ``fit.nc`` round-trip, and every error is status 2."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import hiermod as hm
from hiermod.cli import main
from hiermod.cli.training import GROUP, training_data, training_group
from hiermod.datasets import correlated_slopes
from hiermod.warnings import DataWarning

FORMULA = "y ~ x + (x | g)"


def _quietly(argv: list[str]) -> int:
    """``main(argv)`` with the warnings of a 20-draw fit (R-hat, ESS) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return main(argv)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-predict")
    data = correlated_slopes(n_groups=5, per_group=6, seed=2).data
    # a training row with a missing value: the fit drops it, its obs labels skip it
    train = data.assign(unused=np.arange(len(data)))
    train.loc[4, "x"] = np.nan
    train.to_csv(path / "train.csv", index=False)
    data.iloc[[0, 7, 13, 29]].assign(y=np.nan).to_csv(path / "new.csv", index=False)
    fit = [FORMULA, "--data", str(path / "train.csv"), "--no-progress", "--seed", "1"]
    sample = ["--draws", "20", "--tune", "20", "--chains", "2"]
    assert _quietly(["fit", *fit, *sample, "-o", str(path / "fit.nc")]) == 0
    bare = ["--method", "map", "--without-data", "-o", str(path / "bare.nc")]
    assert _quietly(["fit", *fit, *bare]) == 0
    return path


def _in_process(folder: Path, fit: str = "fit.nc") -> tuple[xr.DataTree, hm.Model, pd.DataFrame]:
    idata = az.from_netcdf(folder / fit)
    with pytest.warns(DataWarning, match="dropped 1 of 30 rows"):  # hiermod predict is silent
        model = hm.Model.from_idata(idata, pd.read_csv(folder / "train.csv"))
    return idata, model, pd.read_csv(folder / "new.csv")


def _predict(folder: Path, *extra: str, fit: str = "fit.nc") -> list[str]:
    return ["predict", str(folder / fit), "--data", str(folder / "new.csv"), *extra]


def _expected(draws: xr.DataArray, prob: float) -> pd.DataFrame:
    flat = draws.transpose("chain", "draw", "obs").to_numpy().reshape(-1, draws.sizes["obs"])
    tail = (1 - prob) / 2
    low, high = np.quantile(flat, [tail, 1 - tail], axis=0)
    label = f"{100 * prob:g}"
    return pd.DataFrame(
        {
            "row": draws["obs"].to_numpy(),
            "estimate": flat.mean(axis=0),
            "sd": flat.std(axis=0, ddof=1),
            f"lower_{label}": low,
            f"upper_{label}": high,
        }
    )


def test_predict_from_the_fit_alone_equals_model_predict(folder: Path) -> None:
    out = folder / "mean.csv"
    assert main(_predict(folder, "-o", str(out))) == 0
    idata, model, new = _in_process(folder)
    expected = _expected(model.predict(idata, data=new), 0.95)
    table = pd.read_csv(out)
    assert list(table["row"]) == [0, 1, 2, 3]  # positions in --data
    pd.testing.assert_frame_equal(table, expected, check_exact=False, rtol=1e-12)


def test_response_draws_with_a_seed_are_model_predicts(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    draws_out = folder / "draws.nc"
    argv = _predict(folder, "--kind", "response", "--seed", "5", "--prob", "0.8")
    assert main([*argv, "--draws-output", str(draws_out)]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))  # no -o: stdout
    idata, model, new = _in_process(folder)
    draws = model.predict(idata, data=new, kind="response", random_seed=5)
    saved = xr.open_dataarray(draws_out)
    np.testing.assert_array_equal(saved.to_numpy(), draws.to_numpy())
    assert saved.dims == ("chain", "draw", "obs")
    pd.testing.assert_frame_equal(table, _expected(draws, 0.8), check_exact=False, rtol=1e-12)


def test_linear_kind(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_predict(folder, "--kind", "linear", "--prob", "0.5")) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    idata, model, new = _in_process(folder)
    expected = _expected(model.predict(idata, data=new, kind="linear"), 0.5)
    pd.testing.assert_frame_equal(table, expected, check_exact=False, rtol=1e-12)


def test_the_fit_holds_the_columns_the_model_reads(folder: Path) -> None:
    stored = training_data(az.from_netcdf(folder / "fit.nc"))
    train = pd.read_csv(folder / "train.csv")
    assert stored is not None
    pd.testing.assert_frame_equal(stored, train[["g", "x", "y"]])  # not the unused column
    assert GROUP not in az.from_netcdf(folder / "bare.nc").children  # --without-data


def test_a_fit_without_data_needs_train(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_predict(folder, fit="bare.nc")) == 2
    err = capsys.readouterr().err
    assert f"hiermod predict: error: {folder / 'bare.nc'} holds no training data" in err
    assert "--train FILE" in err
    train = str(folder / "train.csv")
    assert main(_predict(folder, "--train", train, "--kind", "linear", fit="bare.nc")) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    idata, model, new = _in_process(folder, "bare.nc")
    draws = model.predict(idata, data=new, kind="linear")  # MAP: one draw, no sd
    assert draws.sizes["draw"] == 1
    np.testing.assert_allclose(table["estimate"], draws.to_numpy().ravel(), rtol=1e-12)
    assert table["sd"].isna().all()


def test_train_replaces_the_stored_data(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = folder / "other.csv"
    pd.read_csv(folder / "train.csv").assign(y=lambda d: d.y + 1).to_csv(other, index=False)
    assert main(_predict(folder, "--train", str(other))) == 2
    err = capsys.readouterr().err
    assert err.startswith("hiermod predict: error: ")
    assert "Traceback" not in err


def test_new_levels(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unseen = folder / "unseen.csv"
    pd.read_csv(folder / "new.csv").assign(g=["s00", "zz", "zz", "s01"]).to_csv(unseen, index=False)
    argv = ["predict", str(folder / "fit.nc"), "--data", str(unseen)]
    assert main(argv) == 2
    assert "'zz'" in capsys.readouterr().err
    assert main([*argv, "--new-levels", "population", "--seed", "3"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(table) == 4
    # the new level's rows are wider: its effect is drawn from the population
    assert table["sd"][1] > table["sd"][0]


def test_outputs_are_replaced_only_with_force(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, draws = folder / "kept.csv", folder / "kept.nc"
    for path in (out, draws):
        path.write_text("old", encoding="utf-8")
    for flag, path in (("-o", out), ("--draws-output", draws)):
        assert main(_predict(folder, flag, str(path))) == 2
        err = capsys.readouterr().err
        assert f"cannot write {flag} {path}: the file exists; pass --force" in err
        assert path.read_text(encoding="utf-8") == "old"
    assert main(_predict(folder, "-o", str(out), "--draws-output", str(draws), "--force")) == 0
    assert list(pd.read_csv(out).columns) == ["row", "estimate", "sd", "lower_95", "upper_95"]
    assert xr.open_dataarray(draws).sizes["obs"] == 4
    assert main(_predict(folder, "-o", str(out), "--draws-output", str(out), "--force")) == 2
    assert "-o and --draws-output name the same file" in capsys.readouterr().err


def test_a_fit_that_cannot_be_read(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "text.nc"
    text.write_text("not netCDF", encoding="utf-8")
    foreign = tmp_path / "foreign.nc"
    xr.DataTree(xr.Dataset({"a": ("x", [1.0, 2.0])})).to_netcdf(foreign)
    cases = [
        (tmp_path / "missing.nc", "it does not exist"),
        (tmp_path, "it is a directory"),
        (text, "it is not a netCDF fit"),
        (foreign, "posterior"),
    ]
    for path, words in cases:
        assert main(["predict", str(path), "--data", str(folder / "new.csv")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("hiermod predict: error: ")
        assert words in err, err


def test_numbers_are_checked_by_the_parser(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for flag, value in (("--prob", "1.5"), ("--seed", "-1"), ("--kind", "median")):
        with pytest.raises(SystemExit) as stopped:
            main(_predict(folder, flag, value))
        assert stopped.value.code == 2
        assert f"argument {flag}:" in capsys.readouterr().err


def test_training_data_round_trip_keeps_every_type(tmp_path: Path) -> None:
    """Strings with a missing value, an ordered categorical, integers, booleans, a nullable integer
    with NA, floats with NaN: read back as they were (the model's rows and levels depend on it)."""
    rng = np.random.default_rng(4)
    n = 40
    data = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": np.where(np.arange(n) == 3, np.nan, rng.normal(size=n)),
            "g": pd.Series(["b", "a", None, "c"] * 10, dtype="str"),
            "size": pd.Categorical(
                rng.choice(["big", "small"], size=n), categories=["small", "big"], ordered=True
            ),
            "n": np.arange(n),
            "flag": rng.choice([True, False], size=n),
            "k": pd.array(rng.choice([1, None, 3, 4], size=n), dtype="Int64"),
            "skipped": ["z"] * n,
        }
    )
    with pytest.warns(DataWarning, match="dropped"):
        model = hm.Model("y ~ x + size + n + flag + k + (1 | g)", data)
    path = tmp_path / "fit.nc"
    posterior = xr.Dataset({"a": (("chain", "draw"), [[1.0]])})
    tree = xr.DataTree.from_dict({"posterior": posterior})
    tree[GROUP] = training_group(model, data)
    tree.to_netcdf(path)
    back = training_data(az.from_netcdf(path))
    assert back is not None
    pd.testing.assert_frame_equal(back, data.drop(columns="skipped"))
    assert training_data(tree.drop_nodes(GROUP)) is None


def test_category_probabilities_of_an_ordinal_fit_from_parquet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ordered factor of a Parquet file survives fit.nc (CSV could not carry its order), and
    ``--kind probs`` gives one row per data row and category."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=60)
    levels = ["low", "mid", "high"]
    codes = np.digitize(x + rng.logistic(size=60), [-0.5, 0.8])
    rating = pd.Categorical.from_codes(codes, categories=levels, ordered=True)
    pd.DataFrame({"rating": rating, "x": x}).to_parquet(tmp_path / "ord.parquet")
    new = pd.DataFrame({"x": [-1.0, 0.0, 2.0]})
    new.to_csv(tmp_path / "new.csv", index=False)
    fit = tmp_path / "ord.nc"
    argv = ["rating ~ x", "--data", str(tmp_path / "ord.parquet"), "--family", "cumulative"]
    assert _quietly(["fit", *argv, "--method", "map", "--no-progress", "-o", str(fit)]) == 0
    capsys.readouterr()
    assert main(["predict", str(fit), "--data", str(tmp_path / "new.csv"), "--kind", "probs"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    idata = az.from_netcdf(fit)
    stored = training_data(idata)
    assert stored is not None
    assert list(stored["rating"].cat.categories) == levels
    assert stored["rating"].cat.ordered
    model = hm.Model.from_idata(idata, pd.read_parquet(tmp_path / "ord.parquet"))
    draws = model.predict(idata, data=new, kind="probs")
    (category,) = (d for d in draws.dims if d not in ("chain", "draw", "obs"))
    assert list(table.columns[:2]) == ["row", category]
    assert list(table[category]) == levels * 3
    expected = draws.mean(("chain", "draw")).transpose("obs", category).to_numpy().ravel()
    np.testing.assert_allclose(table["estimate"], expected, rtol=1e-12)
    np.testing.assert_allclose(table.groupby("row")["estimate"].sum(), 1.0)
