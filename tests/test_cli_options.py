"""The model options of ``hiermod fit`` / ``source`` (``--family``, ``--link``, ``--prior``,
``--layout``, ``--centered``) reaching ``hm.Model``, their errors, and the data formats (CSV,
Parquet). In process and without sampling: the options are read by the same ``load_model`` that
``fit`` uses."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hiermod as hm
import hiermod.cli.commands as commands
from hiermod.cli import main
from hiermod.cli.commands import load_model
from hiermod.cli.main import PREDICT_KINDS, build_parser
from hiermod.data.families import FAMILIES, LINKS
from hiermod.datasets import correlated_slopes
from hiermod.errors import OptionError
from hiermod.inference.predict import KINDS

FORMULA = "y ~ x + (x | g)"
CELLS = "y ~ 1 + (1 | g) + (1 | g:c)"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-options")
    correlated_slopes(n_groups=5, per_group=6, seed=2).data.to_csv(path / "data.csv", index=False)
    rng = np.random.default_rng(3)
    cells = pd.DataFrame({"g": np.repeat(["a", "b", "c"], 8), "c": np.tile(["u", "v"], 12)}).assign(
        y=rng.normal(size=24)
    )
    cells.to_csv(path / "cells.csv", index=False)
    return path


def _model(*argv: str) -> hm.Model:
    args = build_parser().parse_args(list(argv))
    return load_model(args)


def _args(folder: Path, *extra: str, formula: str = FORMULA, data: str = "data.csv") -> list[str]:
    return ["source", formula, "--data", str(folder / data), *extra]


@pytest.fixture
def never_reads_data(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("the data were read before the options were checked")

    monkeypatch.setattr(commands, "read_data", fail)


# -- each option reaches the model ----------------------------------------------------------------


def test_prior_options_reach_the_model(folder: Path) -> None:
    default = _model(*_args(folder)).priors
    model = _model(*_args(folder, "--prior", "b=normal(0, 1)", "--prior", "sd_g=half_normal(2)"))
    table = model.priors
    assert table.loc["b", "prior"] == "normal(0, 1)"
    assert table.loc["b", "source"] == "user"
    assert table.loc["sd_g", "prior"] == "half_normal(2)"
    assert default.loc["b", "source"] == "default"
    # keyword arguments in the prior: split at the first '=' only
    keyword = _model(*_args(folder, "--prior", "b=normal(mu=0, sigma=3)")).priors
    assert keyword.loc["b", "prior"] == "normal(0, 3)"


def _blocks(model: hm.Model) -> dict[str, object]:
    return {b.stem: b for b in model.ir.predictors[0].blocks}


@pytest.mark.parametrize(
    ("options", "layout"),
    [
        ((), "dense"),  # every combination observed: auto picks dense
        (("--layout", "observed"), "observed"),
        (("--layout", "g:c=observed"), "observed"),
        (("--layout", "g:c=Dense"), "dense"),
    ],
)
def test_layout_option_reaches_the_model(
    folder: Path, options: tuple[str, ...], layout: str
) -> None:
    model = _model(*_args(folder, *options, formula=CELLS, data="cells.csv"))
    assert _blocks(model)["g__c"].layout == layout  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (("--centered", "true"), {"g": True, "g__c": True}),
        (("--centered", "false"), {"g": False, "g__c": False}),
        (("--centered", "g=yes", "--centered", "g:c=0"), {"g": True, "g__c": False}),
        (("--centered", "g:c=TRUE", "--centered", "g=false"), {"g": False, "g__c": True}),
    ],
)
def test_centered_option_reaches_the_model(
    folder: Path, options: tuple[str, ...], expected: dict[str, bool]
) -> None:
    model = _model(*_args(folder, *options, formula=CELLS, data="cells.csv"))
    assert {k: b.centered for k, b in _blocks(model).items()} == expected  # type: ignore[attr-defined]


def test_family_aliases_and_link_reach_the_model(folder: Path) -> None:
    model = _model(*_args(folder, "--family", "Normal", "--link", "log"))
    assert model.family.name == "gaussian"
    assert model.link == "log"


def test_help_lists_every_family_and_link(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("fit", "source", "compile"):
        with pytest.raises(SystemExit) as stopped:
            main([command, "--help"])
        assert stopped.value.code == 0
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines
        families = text[text.index("--family FAMILY response") : text.index("--link LINK link")]
        links = text[text.index("--link LINK link") : text.index("--prior KEY=PRIOR a prior")]
        assert re.findall(r"(\w+)(?:,|$)", families.rstrip())[-len(FAMILIES) :] == list(FAMILIES)
        assert [w for w in re.findall(r"\w+", links) if w in LINKS] == list(LINKS)


def test_predict_kinds_are_the_models() -> None:
    assert PREDICT_KINDS == KINDS


def test_source_and_its_alias_compile_write_the_same_module(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ("--prior", "b=normal(0, 1)", "--centered", "true")
    assert main(_args(folder, *extra)) == 0
    source = capsys.readouterr().out
    assert main(["compile", *_args(folder, *extra)[1:]]) == 0
    assert capsys.readouterr().out == source
    assert 'b = pm.Normal("b", mu=0.0, sigma=1.0, dims="coef")' in source
    assert source == _model(*_args(folder, *extra)).source()


# -- bad values: exit status 2, the option named, before the data are read ------------------------

PARSER_ERRORS = [
    (("--prior", "normal(0, 1)"), "argument --prior: expected KEY=PRIOR"),
    (("--prior", "normal(mu=0, sigma=1)"), "argument --prior: expected KEY=PRIOR"),
    (("--prior", "=normal(0, 1)"), "argument --prior: expected KEY=PRIOR"),
    (("--prior", "b"), "argument --prior: expected KEY=PRIOR"),
    (("--prior", "b=normal(0,"), "argument --prior: the prior of 'b' in 'b=normal(0,'"),
    (("--prior", "b=nromal(0, 1)"), "unknown prior distribution 'nromal'"),
    (("--prior", "b="), "the prior is an empty string"),
    (("--layout", "sparse"), "argument --layout: expected VALUE or GROUPING=VALUE"),
    (("--layout", "g:c=sparse"), "VALUE one of auto, dense, observed"),
    (("--layout", "=dense"), "argument --layout: expected VALUE or GROUPING=VALUE"),
    (("--centered", "maybe"), "argument --centered: expected VALUE or GROUPING=VALUE"),
    (("--centered", "g=2"), "VALUE one of auto, true, false"),
    (("--family", "bernouli"), "argument --family: unknown family 'bernouli'; hint: did you mean"),
    (("--link", "logg"), "argument --link: invalid choice: 'logg'"),
]


@pytest.mark.parametrize(("options", "words"), PARSER_ERRORS)
def test_malformed_options_are_refused_by_the_parser(
    folder: Path,
    options: tuple[str, ...],
    words: str,
    never_reads_data: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in ("source", "fit"):
        with pytest.raises(SystemExit) as stopped:
            main([command, *_args(folder, *options)[1:]])
        assert stopped.value.code == 2
        err = capsys.readouterr().err
        assert words in err, err
        assert "Traceback" not in err


COMMAND_ERRORS = [
    (("--prior", "b=normal(0, 1)", "--prior", "b=normal(0, 2)"), "--prior gives 'b' twice"),
    (("--layout", "dense", "--layout", "g:c=observed"), "--layout takes one VALUE"),
    (("--centered", "true", "--centered", "false"), "--centered takes one VALUE"),
    (("--centered", "g=true", "--centered", "g=false"), "--centered names the grouping 'g' twice"),
]


@pytest.mark.parametrize(("options", "words"), COMMAND_ERRORS)
def test_conflicting_options_are_an_error_before_the_data(
    folder: Path,
    options: tuple[str, ...],
    words: str,
    never_reads_data: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(_args(folder, *options)) == 2
    err = capsys.readouterr().err
    assert err.startswith("hiermod source: error: ")
    assert words in err


MODEL_ERRORS = [
    (("--prior", "sd_gg=half_normal(1)"), "the prior key 'sd_gg' matches no parameter"),
    (("--layout", "g:d=dense"), "layout names groupings that are not in the model: 'g:d'"),
    (("--centered", "gg=true"), "did you mean 'g'?"),
    (("--family", "poisson", "--link", "probit"), "probit"),
]


@pytest.mark.parametrize(("options", "words"), MODEL_ERRORS)
def test_options_the_model_refuses_are_status_2(
    folder: Path, options: tuple[str, ...], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(folder, *options, formula=CELLS, data="cells.csv")) == 2
    err = capsys.readouterr().err
    assert err.startswith("hiermod source: error: ")
    assert words in err
    assert "Traceback" not in err


def test_an_unknown_grouping_key_suggests_the_closest() -> None:
    data = correlated_slopes(n_groups=4, per_group=5, seed=1).data
    with pytest.raises(OptionError, match=r"'G'; did you mean 'g'\? \(the model's groupings: g\)"):
        hm.Model(FORMULA, data, centered={"G": True})
    with pytest.raises(OptionError, match="'h' \\(the model's groupings: g\\)"):
        hm.Model(FORMULA, data, layout={"h": "dense"})


def test_options_are_parsed_into_model_keywords() -> None:
    args = build_parser().parse_args(
        ["fit", FORMULA, "--data", "d.csv", "--layout", "g:c=observed", "--centered", "no"]
    )
    assert args.layout == [("g:c", "observed")]
    assert args.centered == [(None, False)]
    assert commands.model_options(args) == {
        "priors": None,
        "layout": {"g:c": "observed"},
        "centered": False,
    }
    assert commands.model_options(argparse.Namespace()) == {
        "priors": None,
        "layout": "auto",
        "centered": "auto",
    }


# -- data formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".parquet", ".pq", ".PARQUET"])
def test_parquet_data_give_the_model_of_the_csv(
    folder: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pd.read_csv(folder / "data.csv").to_parquet(folder / f"data{suffix}")
    assert main(_args(folder)) == 0
    from_csv = capsys.readouterr().out
    assert main(_args(folder, data=f"data{suffix}")) == 0
    assert capsys.readouterr().out == from_csv


def test_parquet_keeps_an_ordered_factor(folder: Path) -> None:
    # An ordinal response's order is the categorical's, which CSV cannot carry.
    rng = np.random.default_rng(1)
    levels = ["low", "mid", "high"]  # not alphabetical
    rating = pd.Categorical(rng.choice(levels, size=30), categories=levels, ordered=True)
    pd.DataFrame({"rating": rating, "x": rng.normal(size=30)}).to_parquet(folder / "ord.parquet")
    model = _model(
        "source", "rating ~ x", "--data", str(folder / "ord.parquet"), "--family", "cumulative"
    )
    assert model.ir.coords["rating_threshold"] == ("low|mid", "mid|high")


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        (
            "data.xlsx",
            b"y,x\n1,2\n",
            "it has the suffix '.xlsx'; the data must be a CSV or Parquet",
        ),
        ("data", b"y,x\n1,2\n", "it has no suffix"),
        ("bad.parquet", b"y,x\n1,2\n", "it is not a Parquet file"),
        ("empty.pq", b"", "it is not a Parquet file"),
        ("missing.parquet", None, "it does not exist"),
    ],
)
def test_unreadable_data_formats_are_one_sentence(
    tmp_path: Path,
    name: str,
    content: bytes | None,
    words: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert main(["source", FORMULA, "--data", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"hiermod source: error: cannot read the data file {path} (--data): " in err
    assert words in err
    assert "Traceback" not in err


def test_building_the_parser_does_not_import_pytensor() -> None:
    # hiermod parse / --version stay fast: the family names are read when --help or a value needs them
    code = (
        "import sys; from hiermod.cli.main import build_parser; build_parser(); "
        "print('pytensor' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False"
