"""The models of benchmarks/workflow.py: formulas per tool, their data, and the parameters compared.

Every case names the parameters it compares (population effects, group sds, sigma) once, in a
tool-neutral form (:class:`Param`); :func:`hiermod_name`, :func:`bambi_name` and :func:`brms_name`
spell each of them the way that tool names it in its posterior, so the same parameters are checked
for ESS and R-hat in every tool and their posterior means can be compared.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "benchmarks" / ".cache" / "workflow"
LME4 = ("cbpp", "Penicillin")  # lme4 data sets, written by Rscript into CACHE


@dataclass(frozen=True, slots=True)
class Param:
    """One compared parameter: ``kind`` is Intercept, b, sd, sigma, sigma_Intercept or sigma_sd."""

    kind: str
    coef: str = ""  # b: hiermod's coefficient name ("Days", "period[2]", "zBase:Trt")
    group: str = ""  # sd, sigma_sd: the grouping factor as written ("Subject", "group:color")
    term: str = "Intercept"  # sd: the term of the group block

    @property
    def label(self) -> str:
        """The name shown in tables (hiermod's spelling with the selection in brackets)."""
        if self.kind == "b":
            return f"b[{self.coef}]"
        if self.kind == "sd":
            return f"sd_{_hm_group(self.group)}[{self.term}]"
        if self.kind == "sigma_sd":
            return f"sigma_sd_{_hm_group(self.group)}"
        return self.kind


@dataclass(frozen=True, slots=True)
class Case:
    """One model: the data, its formula in each tool, and the parameters compared."""

    key: str
    title: str
    formula: str  # hiermod (and brms: the same text; a second line is a distributional formula)
    family: str
    params: tuple[Param, ...]
    factors: tuple[str, ...] = ()  # columns every tool reads as categorical (written as text)
    bambi: str = ""  # Bambi's formula when it is spelled differently
    quick: bool = True  # part of --quick
    note: str = ""  # shown under the model's table


def _hm_group(group: str) -> str:
    return group.replace(":", "__")


def hiermod_name(p: Param) -> tuple[str, dict[str, str]]:
    """hiermod: ``Intercept``, ``b`` (dim ``coef``), ``sd_<group>`` (dim ``<group>_term`` when the
    block has several terms), ``sigma``, ``sigma_Intercept``, ``sigma_sd_<group>``."""
    group = _hm_group(p.group)
    if p.kind == "b":
        return "b", {"coef": p.coef}
    if p.kind == "sd":
        return f"sd_{group}", {f"{group}_term": p.term}
    if p.kind == "sigma_sd":
        return f"sigma_sd_{group}", {}
    return p.kind, {}


def bambi_name(p: Param) -> tuple[str, dict[str, str]]:
    """Bambi: a variable per coefficient (a factor's levels on dim ``<factor>_dim``),
    ``<term>|<group>_sigma`` per group term (``1`` for the intercept), ``sigma_1|<group>_sigma``."""
    if p.kind == "b":
        if "[" in p.coef:  # a factor level: period[2] is variable period at period_dim="2"
            factor, level = p.coef.rstrip("]").split("[")
            return factor, {f"{factor}_dim": level}
        return p.coef, {}
    if p.kind == "sd":
        term = "1" if p.term == "Intercept" else p.term
        return f"{term}|{p.group}_sigma", {}
    if p.kind == "sigma_sd":
        return f"sigma_1|{p.group}_sigma", {}
    return p.kind, {}


def brms_name(p: Param) -> str:
    """brms: ``b_Intercept``, ``b_<coef>`` (a factor level glued on: ``b_period2``),
    ``sd_<group>__<term>``, ``sigma``, ``b_sigma_Intercept``, ``sd_<group>__sigma_Intercept``."""
    if p.kind == "Intercept":
        return "b_Intercept"
    if p.kind == "b":
        return "b_" + p.coef.replace("[", "").replace("]", "")
    if p.kind == "sd":
        return f"sd_{p.group}__{p.term}"
    if p.kind == "sigma_Intercept":
        return "b_sigma_Intercept"
    if p.kind == "sigma_sd":
        return f"sd_{p.group}__sigma_Intercept"
    return p.kind


def _b(*coefs: str) -> tuple[Param, ...]:
    return tuple(Param("b", coef=c) for c in coefs)


def _sd(group: str, *terms: str) -> tuple[Param, ...]:
    return tuple(Param("sd", group=group, term=t) for t in terms or ("Intercept",))


INTERCEPT, SIGMA = Param("Intercept"), Param("sigma")
FEATURES = tuple(f"x{j}" for j in range(1, 6))
INDEPENDENT = (
    "Bambi has no correlated group effects: its `{block}` gets an independent sd per term; "
    "hiermod and brms estimate the correlation too."
)


def _forum(key: str, title: str, quick: bool) -> Case:
    return Case(
        key,
        title,
        "",  # filled from hiermod.datasets.forum_scenario (see forum_data)
        "gaussian",
        (
            INTERCEPT,
            *_b(*FEATURES),
            *_sd("group:color", "Intercept", *FEATURES),
            Param("sigma_Intercept"),
            Param("sigma_sd", group="group:color"),
        ),
        factors=("group", "color"),
        quick=quick,
        note=INDEPENDENT.format(block="(1 + x1 + … + x5 | group:color)"),
    )


CASES: dict[str, Case] = {
    case.key: case
    for case in (
        Case(
            "sleepstudy",
            "sleepstudy (180 rows, 18 subjects)",
            "Reaction ~ Days + (Days | Subject)",
            "gaussian",
            (INTERCEPT, *_b("Days"), *_sd("Subject", "Intercept", "Days"), SIGMA),
            factors=("Subject",),
            note=INDEPENDENT.format(block="(Days | Subject)"),
        ),
        Case(
            "radon",
            "radon (919 rows, 85 counties)",
            "log_radon ~ floor + (1 | county)",
            "gaussian",
            (INTERCEPT, *_b("floor"), *_sd("county"), SIGMA),
            factors=("county",),
        ),
        Case(
            "cbpp",
            "cbpp, binomial (56 rows, 15 herds)",
            "incidence | trials(size) ~ period + (1 | herd)",
            "binomial",
            (INTERCEPT, *_b("period[2]", "period[3]", "period[4]"), *_sd("herd")),
            factors=("herd", "period"),
            bambi="p(incidence, size) ~ period + (1 | herd)",
        ),
        Case(
            "epilepsy",
            "epilepsy, Poisson (236 rows, 59 patients)",
            "count ~ zAge + zBase * Trt + (1 | patient)",
            "poisson",
            (INTERCEPT, *_b("zAge", "zBase", "Trt", "zBase:Trt"), *_sd("patient")),
            factors=("patient",),
        ),
        Case(
            "penicillin",
            "Penicillin, crossed (144 rows, 24 plates × 6 samples)",
            "diameter ~ 1 + (1 | plate) + (1 | sample)",
            "gaussian",
            (INTERCEPT, *_sd("plate"), *_sd("sample"), SIGMA),
            factors=("plate", "sample"),
        ),
        _forum("forum-1k", "forum scenario, 1,000 rows, 8 × 4 cells", quick=True),
        _forum("forum-100k", "forum scenario, 100,000 rows, 50 × 4 cells", quick=False),
        Case(
            "insteval",
            "InstEval, crossed (73,421 rows, 2,972 students × 1,128 lecturers, 14 departments)",
            "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)",
            "gaussian",
            (INTERCEPT, *_b("service"), *_sd("s"), *_sd("d"), *_sd("dept"), SIGMA),
            factors=("s", "d", "dept"),
            quick=False,
            note="`service` (0/1) enters as a number in every tool: the same model as a "
            "two-level factor, with one name for its coefficient.",
        ),
    )
}


# -- data -----------------------------------------------------------------------------------------


def forum_data(key: str) -> tuple[str, pd.DataFrame]:
    """The forum scenario of a forum case: its formula (two lines) and its rows."""
    from hiermod.datasets import forum_scenario

    rows, groups = (1_000, 8) if key == "forum-1k" else (100_000, 50)
    simulated = forum_scenario(n_rows=rows, n_features=5, n_groups=groups, n_colors=4, seed=1)
    return simulated.formula, simulated.data


def lme4_csv(name: str) -> tuple[Path | None, str]:
    """``CACHE/<name>.csv`` written from ``lme4::<name>`` by Rscript (once); or None and why not."""
    path = CACHE / f"{name}.csv"
    if path.exists():
        return path, ""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None, f"lme4's {name} needs Rscript with lme4 (not installed)"
    CACHE.mkdir(parents=True, exist_ok=True)
    code = f'write.csv(lme4::{name}, "{path}", row.names = FALSE)'
    done = subprocess.run([rscript, "-e", code], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not path.exists():
        tail = " ".join(done.stderr.strip().splitlines()[-2:])
        return None, f"could not write lme4::{name} with Rscript: {tail}"
    return path, ""


def load(case: Case) -> tuple[str, pd.DataFrame | None, str]:
    """A case's hiermod formula and rows (factors as text), or None and the reason it is skipped."""
    formula = case.formula
    if case.key.startswith("forum"):
        formula, data = forum_data(case.key)
    elif case.key in ("cbpp", "penicillin"):
        path, reason = lme4_csv("cbpp" if case.key == "cbpp" else "Penicillin")
        if path is None:
            return formula, None, reason
        data = pd.read_csv(path)
    else:
        name = {"epilepsy": "epilepsy_brms"}.get(case.key, case.key)
        data = pd.read_csv(DATA / f"{name}.csv")
    for column in case.factors:
        data[column] = data[column].astype(str)
    return formula, data, ""


def read_rows(path: Path, case: Case) -> pd.DataFrame:
    """The rows a worker fits: the run's CSV, with the case's factors read as text."""
    return pd.read_csv(path, dtype=dict.fromkeys(case.factors, str))
