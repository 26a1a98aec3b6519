"""``Model.from_idata`` on tampered and foreign fits: a ``StorageError`` naming the attribute, always.

One fit (prior draws stamped as ``Model.fit`` stamps them, :func:`fit_support.prior_fit`) is
altered one way per case: an attribute missing, of the wrong type, JSON that does not parse or has
the wrong shape, an unknown family or link, a formula that does not parse, priors hiermod has not
got, a newer hiermod's fit, a DataTree that is not a fit. Nothing stored is ever run (the canary
cases would create a file).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pytest
import xarray as xr
from fit_support import prior_fit, sleepstudy_like

import hiermod as hm
from hiermod.errors import StorageError

DATA = sleepstudy_like()
FORMULA = "Reaction ~ Days + (Days | Subject)"
CANARY = Path("/tmp/hiermod-storage-canary")  # what the payloads below would create

Attrs = dict[str, Any]
Change = Callable[[Attrs], None]


@pytest.fixture(scope="module")
def fit() -> xr.DataTree:
    model = hm.Model(FORMULA, DATA, priors={"b": "normal(0, 10)", "sd": "exponential(0.1)"})
    return prior_fit(model, chains=1, draws=4)


def _tampered(fit: xr.DataTree, change: Change) -> xr.DataTree:
    tree = fit.copy(deep=True)
    attrs = copy.deepcopy(dict(tree["posterior"].attrs))
    change(attrs)
    tree["posterior"].attrs = attrs
    return tree


# -- the changes ----------------------------------------------------------------------------------


def drop(name: str) -> Change:
    return lambda attrs: attrs.pop(f"hiermod_{name}")


def put(name: str, value: Any) -> Change:
    def change(attrs: Attrs) -> None:
        attrs[f"hiermod_{name}"] = value

    return change


def spec(**values: Any) -> Change:
    """Change keys of the JSON in hiermod_model (``...``: remove the key)."""

    def change(attrs: Attrs) -> None:
        stored = json.loads(attrs["hiermod_model"])
        for key, value in values.items():
            if value is ...:
                stored.pop(key)
            else:
                stored[key] = value
        attrs["hiermod_model"] = json.dumps(stored)

    return change


def both(key: str, value: str) -> Change:
    """The same change to ``hiermod_<key>`` and to the key in hiermod_model (they agree)."""

    def change(attrs: Attrs) -> None:
        put(key, value)(attrs)
        spec(**{key: value})(attrs)

    return change


def prior(**priors: Any) -> Change:
    return spec(priors=priors)


NORMAL = {"dist": "normal", "params": {"mu": 0, "sigma": 1}}
PAYLOAD = f"__import__('os').system('touch {CANARY}')"

MODEL = "hiermod_model"
CASES: list[tuple[str, Change, tuple[str, ...]]] = [
    # each required attribute missing
    ("missing version", drop("version"), ("no hiermod_version attribute",)),
    ("missing formula", drop("formula"), ("no hiermod_formula attribute",)),
    ("missing family", drop("family"), ("no hiermod_family attribute",)),
    ("missing link", drop("link"), ("no hiermod_link attribute",)),
    ("missing model", drop("model"), ("no hiermod_model attribute",)),
    # each attribute of the wrong type
    ("version a number", put("version", 1), ("hiermod_version", "malformed", "string")),
    ("version blank", put("version", "  "), ("hiermod_version", "non-empty string")),
    ("formula a number", put("formula", 3), ("hiermod_formula", "malformed")),
    ("formula empty", put("formula", ""), ("hiermod_formula", "non-empty string")),
    ("family a list", put("family", ["gaussian"]), ("hiermod_family", "malformed")),
    ("link None", put("link", None), ("hiermod_link", "malformed")),
    ("model a number", put("model", 5), ("hiermod_model", "malformed", "string")),
    ("model an array", put("model", np.zeros(3)), ("hiermod_model", "malformed")),
    ("model not UTF-8", put("model", b"\xff\xfe{"), ("hiermod_model", "UTF-8")),
    ("method a number", put("method", 1), ("hiermod_method", "malformed")),
    ("sampler a float", put("sampler", 2.5), ("hiermod_sampler", "malformed")),
    ("draws text", put("draws", "5"), ("hiermod_draws", "whole number >= 0")),
    ("draws negative", put("draws", -1), ("hiermod_draws", "whole number >= 0")),
    ("draws fractional", put("draws", 2.5), ("hiermod_draws", "whole number >= 0")),
    ("draws a bool", put("draws", True), ("hiermod_draws", "whole number >= 0")),
    ("tune text", put("tune", "x"), ("hiermod_tune", "whole number >= 0")),
    ("chains negative", put("chains", np.int64(-2)), ("hiermod_chains", "whole number >= 0")),
    ("seconds text", put("seconds", "fast"), ("hiermod_seconds", "seconds >= 0")),
    ("seconds negative", put("seconds", -1.0), ("hiermod_seconds", "seconds >= 0")),
    ("seconds infinite", put("seconds", float("inf")), ("hiermod_seconds", "seconds >= 0")),
    ("seconds nan", put("seconds", float("nan")), ("hiermod_seconds", "seconds >= 0")),
    ("source a number", put("source", 7), ("hiermod_source", "malformed")),
    ("fingerprint not hex", put("fingerprint", "xyz"), ("hiermod_fingerprint", "16 hexadecimal")),
    ("fingerprint a number", put("fingerprint", 123), ("hiermod_fingerprint", "malformed")),
    (
        "fingerprint upper case",
        put("fingerprint", "ABCDEF0123456789"),
        ("hiermod_fingerprint", "16 hexadecimal"),
    ),
    ("partial 2", put("partial", 2), ("hiermod_partial", "0 or 1")),
    ("partial text", put("partial", "1"), ("hiermod_partial", "0 or 1")),
    # versions
    ("version not one", put("version", "banana"), ("hiermod_version", "like '0.1.0'")),
    ("version from the future", put("version", "99.0.0"), ("hiermod_version", "newer than")),
    ("minor from the future", put("version", "0.99.0"), ("hiermod 0.99.0", "upgrade hiermod")),
    # JSON that does not parse
    ("model not JSON", put("model", "not json"), (MODEL, "not valid JSON", "line 1")),
    ("model cut short", put("model", '{"formula": "y ~ x"'), (MODEL, "not valid JSON")),
    ("model single quotes", put("model", "{'formula': 1}"), (MODEL, "not valid JSON")),
    ("model nested deeply", put("model", "[" * 100_000), (MODEL, "nested too deeply")),
    # JSON of the wrong shape
    ("model a list", put("model", "[1, 2]"), (MODEL, "JSON object")),
    ("model a string", put("model", '"gaussian"'), (MODEL, "JSON object")),
    ("model null", put("model", "null"), (MODEL, "JSON object")),
    ("model empty object", put("model", "{}"), (MODEL, "'formula' must be a non-empty string")),
    ("spec without formula", spec(formula=...), (MODEL, "'formula'")),
    ("spec formula a number", spec(formula=5), (MODEL, "'formula'")),
    ("spec without family", spec(family=...), (MODEL, "'family'")),
    ("spec link a list", spec(link=[]), (MODEL, "'link'")),
    ("priors a list", spec(priors=["normal(0, 1)"]), (MODEL, "'priors'")),
    ("prior a string", prior(b="normal(0, 1)"), (MODEL, "prior 'b'", "'dist'")),
    ("prior without dist", prior(b={"params": {}}), (MODEL, "prior 'b'", "'dist'")),
    ("prior dist a number", prior(b={"dist": 1, "params": {}}), (MODEL, "prior 'b'")),
    (
        "prior params a list",
        prior(b={"dist": "normal", "params": [0, 1]}),
        (MODEL, "prior 'b'", "numbers"),
    ),
    (
        "prior param text",
        prior(b={"dist": "normal", "params": {"mu": "zero", "sigma": 1}}),
        (MODEL, "prior 'b'", "numbers"),
    ),
    (
        "prior param nested",
        prior(b={"dist": "normal", "params": {"mu": [[0]], "sigma": 1}}),
        (MODEL, "prior 'b'", "numbers"),
    ),
    (
        "prior param an object",
        prior(b={"dist": "normal", "params": {"mu": {"a": 1}, "sigma": 1}}),
        (MODEL, "prior 'b'"),
    ),
    (
        "prior param a bool",
        prior(b={"dist": "normal", "params": {"mu": True, "sigma": 1}}),
        (MODEL, "prior 'b'"),
    ),
    (
        "prior param an empty vector",
        prior(b={"dist": "normal", "params": {"mu": [], "sigma": 1}}),
        (MODEL, "prior 'b'"),
    ),
    # priors hiermod has not got
    (
        "prior unknown dist",
        prior(b={"dist": "banana", "params": {}}),
        (MODEL, "prior 'b'", "unknown prior distribution 'banana'"),
    ),
    (
        "prior unknown parameter",
        prior(b={"dist": "normal", "params": {"mu": 0, "sigma": 1, "nu": 3}}),
        (MODEL, "prior 'b'", "no parameter 'nu'"),
    ),
    (
        "prior missing parameter",
        prior(b={"dist": "normal", "params": {"mu": 0}}),
        (MODEL, "prior 'b'", "needs sigma"),
    ),
    (
        "prior negative scale",
        prior(b={"dist": "normal", "params": {"mu": 0, "sigma": -1}}),
        (MODEL, "prior 'b'"),
    ),
    ("prior key of no parameter", prior(zzz=NORMAL), (MODEL, "'zzz' matches no parameter")),
    # layout and centring
    ("layout a number", spec(layout=5), (MODEL, "'layout'")),
    ("layout a list", spec(layout=["dense"]), (MODEL, "'layout'")),
    ("layout value a number", spec(layout={"Subject": 3}), (MODEL, "'layout'")),
    ("layout unknown", spec(layout="sparse"), (MODEL, "layout", "'sparse'")),
    ("centered text", spec(centered="yes"), (MODEL, "'centered'")),
    ("centered a number", spec(centered=3), (MODEL, "'centered'")),
    ("centered null", spec(centered=None), (MODEL, "'centered'")),
    ("centered dict value", spec(centered={"Subject": "maybe"}), (MODEL, "'centered'")),
    # unknown family or link
    ("unknown family", both("family", "nope"), (MODEL, "unusable family", "unknown family 'nope'")),
    ("link of no family", both("link", "cubic"), (MODEL, "does not take the link 'cubic'")),
    # formulas that do not parse, or mean nothing
    ("formula unbalanced", both("formula", "Reaction ~ ("), (MODEL, "invalid formula")),
    ("formula trailing plus", both("formula", "Reaction ~ Days +"), (MODEL, "invalid formula")),
    ("formula unknown function", both("formula", "Reaction ~ nope(Days)"), (MODEL, "nope")),
    ("formula without response", both("formula", "~ Days"), (MODEL, "needs a response")),
    ("formula a payload", both("formula", PAYLOAD), (MODEL, "formula")),
    ("prior dist a payload", prior(b={"dist": PAYLOAD, "params": {}}), (MODEL, "prior 'b'")),
    # the attributes disagree with hiermod_model (edited on one side)
    ("formula disagrees", put("formula", "y ~ x"), ("hiermod_formula", "disagrees", MODEL)),
    ("family disagrees", put("family", "poisson"), ("hiermod_family", "disagrees")),
    ("link disagrees", put("link", "log"), ("hiermod_link", "disagrees")),
]


@pytest.mark.parametrize(("change", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_tampered_fit_is_a_storage_error_naming_the_attribute(
    fit: xr.DataTree, change: Change, words: tuple[str, ...]
) -> None:
    tampered = _tampered(fit, change)
    with pytest.raises(StorageError) as raised:
        hm.Model.from_idata(tampered, DATA)
    message = str(raised.value)
    for word in words:
        assert word in message, (word, message)
    assert not CANARY.exists()


def test_the_table_is_large_enough() -> None:
    assert len(CASES) + len(FOREIGN) >= 60


# -- things that are not hiermod fits -------------------------------------------------------------


def _posterior_only_other_groups() -> xr.DataTree:
    return xr.DataTree.from_dict({"observed_data": xr.Dataset({"y": ("obs", np.zeros(3))})})


FOREIGN: list[tuple[str, Callable[[], Any], str]] = [
    ("a dict", lambda: {"posterior": {}}, "not dict"),
    ("a Dataset", lambda: xr.Dataset(), "not Dataset"),
    ("None", lambda: None, "not NoneType"),
    ("a path", lambda: "fit.nc", "read the file first"),
    ("a Path", lambda: Path("fit.nc"), "az.from_netcdf(path)"),
    ("an empty DataTree", lambda: xr.DataTree(), "no posterior group (it has: none)"),
    ("no posterior group", _posterior_only_other_groups, "no posterior group (it has: observed"),
    (
        "a foreign posterior",
        lambda: az.from_dict({"posterior": {"a": np.zeros((1, 3))}}),
        "no hiermod_model attribute",
    ),
]


@pytest.mark.parametrize(("make", "words"), [f[1:] for f in FOREIGN], ids=[f[0] for f in FOREIGN])
def test_a_foreign_object_is_a_storage_error(make: Callable[[], Any], words: str) -> None:
    with pytest.raises(StorageError) as raised:
        hm.Model.from_idata(make(), DATA)
    assert words in str(raised.value)


def test_storage_error_is_a_value_error_and_exported() -> None:
    assert issubclass(hm.StorageError, hm.HiermodError)
    assert issubclass(hm.StorageError, ValueError)


def test_observed_data_that_is_not_numeric(fit: xr.DataTree) -> None:
    tree = fit.copy(deep=True)
    tree["observed_data"] = xr.Dataset({"Reaction": ("obs", np.array(["a"] * len(DATA)))})
    with pytest.raises(StorageError, match="observed_data 'Reaction' is not numeric"):
        hm.Model.from_idata(tree, DATA)


# -- what is not an error -------------------------------------------------------------------------

OPTIONAL = ["method", "sampler", "draws", "tune", "chains", "seconds", "source", "fingerprint"]


@pytest.mark.parametrize("name", OPTIONAL)
def test_an_optional_attribute_may_be_missing(fit: xr.DataTree, name: str) -> None:
    model = hm.Model.from_idata(_tampered(fit, lambda a: a.pop(f"hiermod_{name}", None)), DATA)
    assert model.predict(fit).shape == (1, 4, len(DATA))


def test_a_newer_hiermods_extra_attribute_is_ignored(fit: xr.DataTree) -> None:
    model = hm.Model.from_idata(_tampered(fit, put("shiny_new_thing", "[1, 2]")), DATA)
    assert model.formula.text is not None


def test_bytes_attributes_are_read_as_text(fit: xr.DataTree) -> None:
    def to_bytes(attrs: Attrs) -> None:
        attrs["hiermod_model"] = attrs["hiermod_model"].encode("utf-8")

    model = hm.Model.from_idata(_tampered(fit, to_bytes), DATA)
    assert str(model.formula) == "Reaction ~ 1 + Days + (1 + Days | Subject)"


def test_a_tampered_file_on_disk(fit: xr.DataTree, tmp_path: Path) -> None:
    path = tmp_path / "fit.nc"
    _tampered(fit, put("model", '{"formula": ')).to_netcdf(path)
    with pytest.raises(StorageError, match="hiermod_model attribute is not valid JSON"):
        hm.Model.from_idata(az.from_netcdf(path), DATA)
    other = tmp_path / "other.nc"
    _tampered(fit, prior(b={"dist": "banana", "params": {}})).to_netcdf(other)
    with pytest.raises(StorageError, match="unknown prior distribution 'banana'"):
        hm.Model.from_idata(az.from_netcdf(other), DATA)


def test_a_column_the_data_lack_stays_a_data_error(fit: xr.DataTree) -> None:
    with pytest.raises(hm.DataError, match="unknown column 'Nope'"):
        hm.Model.from_idata(_tampered(fit, both("formula", "Reaction ~ Nope")), DATA)
