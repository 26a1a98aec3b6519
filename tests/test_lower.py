"""Lowering rules: names and dims, the layout rule, default and user priors, family checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hiermod as hm
from hiermod.datasets import correlated_slopes, forum_scenario
from hiermod.errors import FamilyError, PriorError
from hiermod.plan.priors import Prior


@pytest.fixture(scope="module")
def forum() -> hm.Model:
    sim = forum_scenario(n_rows=400, n_features=2, n_groups=3, n_colors=2, seed=3)
    return hm.Model(sim.formula, sim.data, centered=False)  # names of the non-centred form


def test_forum_names_and_dims(forum: hm.Model) -> None:
    table = forum.describe()
    expected = {
        "Intercept": ((), "intercept"),
        "b": (("coef",), "coefficients"),
        "sd_group__color": (("group__color_term",), "group_sd"),
        "chol_group__color": ((), "group_cholesky"),
        "corr_group__color": (("group__color_term_pair",), "group_corr"),
        "z_group__color": (("group", "color", "group__color_term"), "group_offsets"),
        "r_group__color": (("group", "color", "group__color_term"), "group_effects"),
        "sigma_Intercept": ((), "intercept"),
        "sigma_sd_group__color": ((), "group_sd"),
        "sigma_z_group__color": (("group", "color"), "group_offsets"),
        "sigma_r_group__color": (("group", "color"), "group_effects"),
    }
    assert list(table.index) == list(expected)
    for name, (dims, role) in expected.items():
        assert table.loc[name, "dims"] == ", ".join(dims), name
        assert table.loc[name, "role"] == role, name
    model = forum.pymc
    assert model.coords["group"] == ("g01", "g02", "g03")
    assert model.coords["color"] == ("blue", "red")  # sorted levels
    assert model.coords["group__color_term"] == ("Intercept", "x1", "x2")
    assert model.coords["coef"] == ("x1", "x2")
    # No data container is named like a dim, every name is an identifier.
    data_names = {d.name for d in forum.ir.data}
    assert not data_names & set(model.coords)
    assert all(name.isidentifier() for name in [*data_names, *model.named_vars])


def test_parameters_contract_matches_pymc(forum: hm.Model) -> None:
    model = forum.pymc
    for spec in forum.ir.parameters():
        var = model[spec.name]
        assert model.named_vars_to_dims.get(spec.name, ()) == spec.dims or not spec.dims, spec.name
        if spec.role != "group_cholesky":
            assert tuple(var.shape.eval()) == spec.shape, spec.name
    free = {model.rvs_to_values[rv].name.split("_cholesky")[0] for rv in model.free_RVs}
    free = {name.removesuffix("_log__") for name in free}
    assert free == {p.name for p in forum.ir.free_parameters()}


def _cells(n_groups: int, n_colors: int, share: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    combos = [(g, c) for g in range(n_groups) for c in range(n_colors)]
    keep = rng.permutation(len(combos))[: max(1, round(share * len(combos)))]
    rows = [combos[i] for i in keep for _ in range(3)]
    data = pd.DataFrame(rows, columns=["g", "c"]).astype(str)
    data["y"] = rng.normal(size=len(data))
    return data


@pytest.mark.parametrize(
    ("share", "layout", "expected"),
    [
        (1.0, "auto", "dense"),  # crossed: every combination observed
        (0.5, "auto", "dense"),  # the threshold itself is dense
        (0.2, "auto", "observed"),  # nested-looking labels
        (0.2, "dense", "dense"),
        (1.0, "observed", "observed"),
        (1.0, {"g:c": "observed"}, "observed"),
    ],
)
def test_layout_rule(share: float, layout: object, expected: str) -> None:
    data = _cells(10, 6, share)
    model = hm.Model("y ~ 1 + (1 | g:c)", data, layout=layout)  # type: ignore[arg-type]
    (block,) = model.ir.predictors[0].blocks
    assert block.layout == expected
    dims = model.describe().loc["r_g__c", "dims"]
    assert dims == ("g, c" if expected == "dense" else "g__c")
    n_cells = data[["g", "c"]].drop_duplicates().shape[0]
    n_product = data["g"].nunique() * data["c"].nunique()  # levels that occur, all combinations
    assert block.n_levels == (n_product if expected == "dense" else n_cells)


def test_layout_for_unknown_grouping_is_an_error() -> None:
    with pytest.raises(ValueError, match="not in the model"):
        hm.Model("y ~ 1 + (1 | g:c)", _cells(3, 2, 1.0), layout={"g:d": "dense"})


@pytest.mark.parametrize(
    ("centered", "expected"),
    [
        (False, {"g": False, "c": False}),
        (True, {"g": True, "c": True}),
        ({"g": True, "c": False}, {"g": True, "c": False}),
        ({"g": False, "c": True}, {"g": False, "c": True}),
    ],
)
def test_centring_choice_per_grouping(centered: object, expected: dict[str, bool]) -> None:
    data = _cells(4, 3, 1.0)
    model = hm.Model("y ~ 1 + (1 | g) + (1 | c)", data, centered=centered)  # type: ignore[arg-type]
    blocks = {b.block.factors[0]: b for b in model.ir.predictors[0].blocks}
    assert {k: b.centered for k, b in blocks.items()} == expected
    free = {rv.name for rv in model.pymc.free_RVs}
    # The Intercept centres one centred block, the one with the fewest levels (c: 3 against
    # g's 4); another centred block is centred on 0.
    first = next((f for f in ("c", "g") if expected[f]), None)
    for factor, block in blocks.items():
        # non-centred: z is the parameter and r is computed from it; centred on the Intercept:
        # beta (each level's own intercept) is, r = beta - Intercept; centred on 0: r is
        assert (f"z_{factor}" in free) == (not expected[factor])
        assert (f"beta_{factor}" in free) == (factor == first)
        assert (f"r_{factor}" in free) == (expected[factor] and factor != first)
        assert (block.z is None) == expected[factor]


@pytest.mark.parametrize(
    ("formula", "on_intercept"),
    [
        ("y ~ 1 + (1 | g) + (1 | c)", "c"),
        ("y ~ 1 + (1 | c) + (1 | g)", "c"),
        ("y ~ 0 + (1 | g) + (1 | c)", None),  # no Intercept: both centred on 0
    ],
)
def test_the_intercept_centres_the_block_with_the_fewest_levels(
    formula: str, on_intercept: str | None
) -> None:
    """Whatever the formula order: c has 3 levels, g 12 (its cells with c), so c takes it."""
    data = _cells(4, 3, 1.0).assign(g=lambda d: d["g"].astype(str) + d["c"].astype(str))
    model = hm.Model(formula, data, centered=True)
    free = {rv.name for rv in model.pymc.free_RVs}
    for factor in ("g", "c"):
        assert (f"beta_{factor}" in free) == (factor == on_intercept)  # beta: centred on it
        assert (f"r_{factor}" in free) == (factor != on_intercept)  # r: centred on 0


def test_a_grouping_a_dict_does_not_name_is_auto() -> None:
    rng = np.random.default_rng(3)
    data = _cells(4, 3, 1.0).assign(y=lambda d: d.y + rng.normal(0, 0.1, len(d)))
    formula = "y ~ 1 + (1 | g) + (1 | c)"
    auto = {b.block.factors[0]: b.centered for b in hm.Model(formula, data).ir.predictors[0].blocks}
    for forced in (True, False):
        model = hm.Model(formula, data, centered={"g": forced})
        chosen = {b.block.factors[0]: b.centered for b in model.ir.predictors[0].blocks}
        assert chosen == {"g": forced, "c": auto["c"]}


@pytest.mark.parametrize(
    ("formula", "means"),
    [
        ("y ~ x + (1 + x | g)", ("Intercept", "b[0]")),
        ("y ~ 1 + (1 + x | g)", ("Intercept", None)),  # no population slope: centred on 0
        ("y ~ 0 + x + (1 + x | g)", (None, "b[0]")),
        ("y ~ x + (0 + x | g)", ("b[0]",)),
        ("y ~ x + z + (z || g)", ("Intercept", "b[1]")),
    ],
)
def test_centred_blocks_centre_on_matching_population_terms(
    formula: str, means: tuple[str | None, ...]
) -> None:
    rng = np.random.default_rng(0)
    data = _cells(4, 3, 1.0).assign(x=rng.normal(size=36), z=rng.normal(size=36))
    (block,) = hm.Model(formula, data, centered=True).ir.predictors[0].blocks
    assert tuple(None if m is None else str(m) for m in block.means) == means


@pytest.mark.parametrize(
    ("centered", "message"),
    [
        ({"g:d": True}, "not in the model"),
        ("yes", "True, False or 'auto'"),
        ({"g": "no"}, "True, False or 'auto'"),
    ],
)
def test_centring_choice_errors(centered: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        hm.Model("y ~ 1 + (1 | g)", _cells(3, 2, 1.0), centered=centered)  # type: ignore[arg-type]


def test_default_priors_scale_with_the_data() -> None:
    sim = correlated_slopes(seed=2)
    data = sim.data.assign(y=sim.data.y * 100, x=sim.data.x * 10)
    model = hm.Model(sim.formula, data)
    table = model.priors
    y, x = data.y.to_numpy(), data.x.to_numpy()

    def r4(value: float) -> float:  # defaults are rounded to 4 significant digits
        return float(f"{value:.4g}")

    sd_y, sd_x = y.std(ddof=1), x.std(ddof=1)
    intercept = model.ir.predictors[0].population.intercept
    assert intercept is not None
    assert intercept.prior == Prior("student_t", 3, r4(y.mean()), r4(2.5 * sd_y))
    b = dict(model.ir.predictors[0].population.coefficients.prior.params)  # type: ignore[union-attr]
    assert b == {"mu": 0.0, "sigma": r4(2.5 * sd_y / sd_x)}
    sd = dict(model.ir.predictors[0].blocks[0].sd.prior.params)  # type: ignore[union-attr]
    assert sd["sigma"] == (r4(sd_y), r4(sd_y / sd_x))
    assert table.loc["sigma", "prior"] == str(Prior("exponential", r4(1 / sd_y)))
    assert set(table["source"]) == {"default"}


@pytest.mark.parametrize(
    ("formula", "parameter"),
    [("y ~ 0 + g + x", "b"), ("y ~ x\nsigma ~ 0 + g", "sigma_b")],
)
def test_indicators_replacing_the_intercept_get_its_prior(formula: str, parameter: str) -> None:
    sim = correlated_slopes(n_groups=4, per_group=30, seed=3)
    model = hm.Model(formula, sim.data)
    spec = next(p for p in model.ir.parameters() if p.name == parameter)
    assert spec.prior is not None
    prior = dict(spec.prior.params)
    y = sim.data.y.to_numpy()
    levels = 4
    if parameter == "b":  # four group indicators, then the slope of x
        center, width = float(f"{y.mean():.4g}"), float(f"{2.5 * y.std(ddof=1):.4g}")
        assert prior["mu"] == (center,) * levels + (0.0,)
        assert prior["sigma"][:levels] == (width,) * levels
    else:  # sigma's indicators: log-sigma per group, centred on log sd(y)
        assert prior["mu"] == float(f"{np.log(y.std(ddof=1)):.4g}")  # the same for every level
        assert prior["sigma"] == 1.5


def test_user_priors_by_name_class_and_element() -> None:
    sim = forum_scenario(n_rows=200, n_features=2, n_groups=3, n_colors=2)
    model = hm.Model(
        sim.formula,
        sim.data,
        priors={
            "b": "normal(0, 1)",
            "b[x2]": "normal(1, 0.5)",
            "sd": Prior("half_normal", 2),
            "corr_group__color": "lkj(3)",
            "sigma_Intercept": "normal(0, 0.5)",
        },
    )
    priors = model.priors
    assert priors.loc["b", "prior"] == "normal([0, 1], [1, 0.5])"
    assert priors.loc["sd_group__color", "prior"] == "half_normal(2)"
    assert priors.loc["sigma_sd_group__color", "source"] == "default"  # "sd" is mu's class key
    assert priors.loc["corr_group__color", "prior"] == "lkj(3)"
    assert priors.loc["sigma_Intercept", "source"] == "user"
    assert model.ir.predictors[0].blocks[0].lkj_eta == 3.0
    assert np.isfinite(model.pymc.compile_logp()(model.pymc.initial_point()))


@pytest.mark.parametrize(
    ("priors", "message"),
    [
        ({"bb": "normal(0, 1)"}, "did you mean 'b'"),
        ({"sd": "normal(0, 1)"}, "is positive"),
        ({"b": "lkj(2)"}, "only for correlation"),
        ({"corr": "normal(0, 1)"}, "lkj"),
        ({"b": "normal(0, x)"}, "must be numbers"),
        ({"b": "nrmal(0, 1)"}, "did you mean 'normal'"),
        ({"b": "normal(0, -1)"}, "must be positive"),
        ({"b": ""}, "the prior is an empty string"),
        # One value per coefficient: the slope model has b = (x) only.
        ({"b": "normal([0, 0, 0], 1)"}, r"gives mu 3 values, but b has 1 coefficient \(x\)"),
        ({"sigma": "exponential([1, 2])"}, "sigma is one number"),
        ({"b": "   "}, "the prior is an empty string"),
    ],
)
def test_bad_priors(priors: dict[str, str], message: str) -> None:
    sim = correlated_slopes(n_groups=5, per_group=4)
    with pytest.raises(PriorError, match=message):
        hm.Model(sim.formula, sim.data, priors=priors)


def test_distributional_parameter_the_family_lacks() -> None:
    data = pd.DataFrame({"y": [1, 2, 3, 0], "g": list("abab")})
    with pytest.raises(FamilyError, match="no parameter 'sigma'") as info:
        hm.Model("y ~ 1\nsigma ~ (1 | g)", data, family="poisson")
    assert "^^^^^" in str(info.value)


def test_unknown_family_and_link() -> None:
    data = pd.DataFrame({"y": [1.0, 2.0], "x": [0.0, 1.0]})
    with pytest.raises(FamilyError, match="did you mean 'poisson'"):
        hm.Model("y ~ x", data, family="poison")
    with pytest.raises(FamilyError, match="links are: logit"):
        hm.Model("y ~ x", data.assign(y=[0, 1]), family="bernoulli", link="log")


def test_dpar_keyword_formulas_equal_text_formulas() -> None:
    sim = forum_scenario(n_rows=200, n_features=1, n_groups=2, n_colors=2)
    text = hm.Model("y ~ x1 + (1 | group)\nsigma ~ (1 | group:color)", sim.data)
    keyword = hm.Model("y ~ x1 + (1 | group)", sim.data, sigma="~ (1 | group:color)")
    assert text.formula == keyword.formula
    assert list(text.describe().index) == list(keyword.describe().index)


def test_two_blocks_on_one_grouping_get_distinct_names() -> None:
    sim = correlated_slopes(n_groups=6, per_group=5)
    model = hm.Model("y ~ x + (1 | g) + (0 + x | g)", sim.data)
    names = list(model.describe().index)
    assert {"sd_g", "r_g", "sd_g_2", "r_g_2"} <= set(names)
    assert model.describe().loc["r_g_2", "dims"] == "g"


def test_groupings_with_coinciding_codes_keep_their_own_index() -> None:
    """Index containers are shared by grouping, not by value: h's codes equal g's here, but new data
    (predict, the exported prepare) may not keep them equal."""
    data = pd.DataFrame({"y": np.arange(8.0), "g": list("abab" * 2), "x": np.linspace(0, 1, 8)})
    data["h"] = data["g"].map({"a": "u", "b": "v"})
    model = hm.Model("y ~ 1 + (1 | g) + (1 | h) + (0 + x | g)", data)
    assert [b.index for b in model.ir.predictors[0].blocks] == ["g_idx", "h_idx", "g_idx"]


def test_vector_priors_in_strings_and_their_length() -> None:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {"y": rng.normal(size=30), "x": rng.normal(size=30), "z": rng.normal(size=30)}
    )
    model = hm.Model("y ~ x + z", data, priors={"b": "normal([0, 1], c(1, 0.5))"})
    assert model.priors.loc["b", "prior"] == "normal([0, 1], [1, 0.5])"
    with pytest.raises(PriorError, match=r"gives mu 3 values, but b has 2 coefficients \(x, z\)"):
        hm.Model("y ~ x + z", data, priors={"b": Prior("normal", [0, 0, 0], 1)})
