"""ModelIR → readable, runnable PyMC source: what ``Model.source()`` returns.

The module written has a docstring with the canonical formula, module-level constants for the schema
(level tables, labels, transform constants), ``prepare(df)`` (see :mod:`hiermod.output.source_data`), and
``cell_data(data)`` for a reducible likelihood (:mod:`hiermod.output.source_cells`) and
``build_model(data[, reduce])``: coords, the parameters with one section per IR piece and a comment
saying which term it implements, how it pools and why, then the likelihood (reduced and row-wise).
Running it with a CSV path fits the model.

One small function per IR piece writes it (in :mod:`hiermod.output.source_model`); this module writes
the module around them: the docstring, the imports, the coords and data containers of
``build_model``, and ``main``. This text is the model: :mod:`hiermod.output.module` runs it to build
``Model.pymc``. Every data value is embedded by :func:`~hiermod.output.codegen.literal` or
:func:`~hiermod.output.codegen.comment_text`, so none can run as code.
"""

from __future__ import annotations

import re

from hiermod.data.design import Design
from hiermod.data.families import get_family
from hiermod.data.runtime import level_labels
from hiermod.output.codegen import (
    Code,
    Item,
    Names,
    Seq,
    Subscript,
    call,
    comment,
    docstring_text,
    list_of,
    literal,
    render,
    tuple_of,
)
from hiermod.output.source_cells import cell_data_function, likelihood_names, reduced_likelihood
from hiermod.output.source_data import DataEmitter
from hiermod.output.source_helpers import (
    DISTRIBUTION_NAMES,
    HELPER_NAMES,
    IMPORTS,
    LIKELIHOOD_NAMES,
    censored_source,
    distribution_function_sources,
    distribution_sources,
    likelihood_sources,
    weighted_source,
)
from hiermod.output.source_model import (
    Emitter,
    dims_code,
    emit_node,
    ordinal_thresholds,
    predictor_value,
)
from hiermod.plan.ir import ConstantIR, ModelIR

__all__ = ["emit_source", "main_lines"]

# Names the generated module defines or imports; data-derived names never take them.
_RESERVED = (
    "np", "pd", "pm", "math", "warnings", "argparse", "BSpline",
    "prepare", "build_model", "cell_data", "main", "complete_rows", *HELPER_NAMES,
    *LIKELIHOOD_NAMES, *DISTRIBUTION_NAMES, "weighted_logp", "weighted_dist", "weighted_random", "censored_logp",
    "censored_dist", "pt", "reduce",
    "df", "data", "coords", "model", "rows", "args", "parser", "idata", "var_names",
)  # fmt: skip

_SUMMARY_ROLES = (
    "intercept",
    "coefficients",
    "group_sd",
    "group_corr",
    "smooth_sd",
    "auxiliary",
    "monotonic_coefficient",
    "monotonic_simplex",
)


def _labels(values: tuple[object, ...]) -> Seq:
    return tuple_of(literal(v) for v in values)


def _level_coords(e: Emitter, factor: str) -> Code:
    """A grouping factor's coords: its level table when that is its labels (all ints or all
    text), else ``level_labels(table)``, the labels hiermod gives it (:mod:`hiermod.data.runtime`)."""
    table = e.data.level_table(factor)
    levels = e.data.levels(factor)
    if level_labels(levels) == levels:
        return table
    return call(e.data.helper("level_labels"), table)


def _coords(e: Emitter) -> Seq:
    """``coords``: each dim's labels, from the schema's constants where there is one."""
    data = e.data
    sources: dict[str, Code] = {"obs": 'data["rows"]'}
    for predictor in e.ir.predictors:
        pop = predictor.population
        if pop.coefficients is not None:
            note = f"Population-level coefficients of {predictor.dpar}, one per column of X"
            sources[pop.coefficients.dims[0]] = data.constant(
                pop.coefficients.dims[0], _labels(pop.coef_labels), note
            )
        for block in predictor.blocks:
            factors = block.block.factors
            if block.layout == "observed":
                tables = [data.level_table(f) for f in factors]
                labels = call(data.helper("cell_labels"), data.cells_table(factors), *tables)
                sources[block.level_dims[0]] = labels
            else:
                for dim, factor in zip(block.level_dims, factors, strict=True):
                    sources[dim] = _level_coords(e, factor)
            if block.term_dim is not None:
                note = f"Effects of {block.block}"
                terms = data.constant(block.term_dim, _labels(block.term_labels), note)
                sources[block.term_dim] = terms
    items = [
        Item(sources.get(dim) or _labels(labels), f"{literal(dim)}: ")
        for dim, labels in e.ir.coords.items()
        if not (e.ir.streamed and dim == "obs")  # a streamed model keeps no rows
    ]
    return Seq("{", tuple(items), "}")


def _containers(e: Emitter, indent: int) -> list[str]:
    """``pm.Data`` containers of the row-wise likelihood (the response is a constant)."""
    lines = comment("Data containers (pm.Data): swap in new rows with pm.set_data", indent)
    for spec in e.ir.data:
        if spec.name == e.ir.likelihood.observed or spec.role == "by":  # by: with its block
            continue
        value = Subscript("data", literal(spec.name))
        dims = dims_code(spec.dims) if spec.dims else "None"  # an exact GP's distances
        container = call("pm.Data", literal(spec.name), value, dims=dims)
        lines += render(container, indent, f"{e.local(spec.name)} = ")
    return lines


def _row_likelihood(e: Emitter) -> list[str]:
    """Each distributional parameter row by row, then the likelihood (at ``e.indent``)."""
    lines: list[str] = []
    for predictor in e.ir.predictors:
        lines += predictor_value(e, predictor)
    return [*lines, *emit_node(e, e.ir.likelihood).lines]


def _signature(ir: ModelIR) -> list[str]:
    """``def build_model(...)`` and its first statements: the form of the likelihood to build."""
    if ir.streamed:
        return [
            "def build_model(data: pd.DataFrame | dict[str, np.ndarray]) -> pm.Model:",
            '    """The PyMC model of ``data``: a DataFrame, or the cells of ``cell_data``.',
            "",
            "    The model was compiled from data streamed in chunks: its likelihood reads the cell",
            "    sums only (no rows are kept, so there are no rows to draw).",
            '    """',
            "    if isinstance(data, pd.DataFrame):",
            "        data = cell_data(prepare(data))",
        ]
    if not ir.reducible:
        return [
            "def build_model(data: pd.DataFrame | dict[str, np.ndarray]) -> pm.Model:",
            '    """The PyMC model of ``data``: a DataFrame, or the arrays ``prepare`` returns."""',
            "    if isinstance(data, pd.DataFrame):",
            "        data = prepare(data)",
        ]
    return [
        "def build_model(",
        "    data: pd.DataFrame | dict[str, np.ndarray], reduce: bool = True",
        ") -> pm.Model:",
        '    """The PyMC model of ``data``: a DataFrame, or the arrays ``prepare`` returns.',
        "",
        "    ``reduce=True`` evaluates the likelihood through the cells of ``cell_data``: the same",
        "    posterior as ``reduce=False`` (row by row), at a cost per evaluation that does not",
        "    grow with the rows; both draw rows in prior and posterior predictive sampling.",
        '    """',
        "    if isinstance(data, pd.DataFrame):",
        "        data = prepare(data)",
        "    if reduce:",
        "        data = {**data, **cell_data(data)}",
    ]


def _build_model(e: Emitter) -> list[str]:
    ir = e.ir
    coords = _coords(e)
    parameters: list[str] = []
    for predictor in ir.predictors:
        parameters += ["", *emit_node(e, predictor).lines]
    for _, source in ir.likelihood.dpars:
        if isinstance(source, ConstantIR):
            parameters += ["", *emit_node(e, source).lines]
    if ir.merged is not None and get_family(ir.likelihood.family).ordinal:
        parameters += ["", *ordinal_thresholds(e, ir.likelihood)]  # read by both likelihoods
    if not ir.reducible:
        body = [*_containers(e, 2), *parameters, "", *_row_likelihood(e)]
    elif ir.streamed:
        body = [*parameters[1:], "", *reduced_likelihood(e)]
    else:
        e.indent = 3
        reduced = reduced_likelihood(e)
        rows = [*_containers(e, 3), *_row_likelihood(e)]
        body = [*parameters[1:], "", "        if reduce:", *reduced, "        else:", *rows]
    return [
        *_signature(ir),
        *render(coords, 1, "coords = "),
        "    with pm.Model(coords=coords) as model:",
        *body,
        "    return model",
    ]


def _main(e: Emitter) -> list[str]:
    var_names = [p.name for p in e.ir.parameters() if p.role in _SUMMARY_ROLES]
    return main_lines(var_names)


def main_lines(var_names: list[str]) -> list[str]:
    """The module's ``main()``: fit the model to a CSV file and print the summary of
    ``var_names`` (also the multivariate module's, ``output/source_multivariate.py``)."""
    sample = call(
        "pm.sample",
        draws="args.draws",
        tune="args.tune",
        chains="args.chains",
        random_seed="args.seed",
    )
    return [
        "def main() -> None:",
        '    """Fit the model to a CSV file and print a summary of its parameters."""',
        "    parser = argparse.ArgumentParser(description=main.__doc__)",
        '    parser.add_argument("csv", help="a CSV file with the columns the model reads")',
        '    parser.add_argument("--draws", type=int, default=1000)',
        '    parser.add_argument("--tune", type=int, default=1000)',
        '    parser.add_argument("--chains", type=int, default=4)',
        '    parser.add_argument("--seed", type=int, default=0)',
        "    args = parser.parse_args()",
        "    with build_model(pd.read_csv(args.csv)):",
        *render(sample, 2, "idata = "),
        *render(list_of(literal(v) for v in var_names), 1, "var_names = "),
        "    print(pm.stats.summary(idata, var_names=var_names).to_string())",
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]


def _docstring(ir: ModelIR, n_rows: int) -> list[str]:
    return [
        '"""A PyMC model written by hiermod from the formula',
        "",
        f"    {docstring_text(ir.formula)}",
        "",
        f"Family: {ir.likelihood.family}, {ir.likelihood.link} link; compiled from {n_rows} rows.",
        "``prepare(df)`` encodes a DataFrame as the training data was encoded and",
        "``build_model(df)`` returns the PyMC model; ``python <this file> data.csv`` fits the",
        "model to a CSV file and prints a summary.",
        '"""',
    ]


def _imports(helpers: list[str], *, tensor: bool) -> list[str]:
    extra = [line for name in helpers for line in IMPORTS.get(name, ())]
    stdlib = sorted({"import argparse", "import warnings", *(i for i in extra if "scipy" not in i)})
    third = ["import numpy as np", "import pandas as pd", "import pymc as pm"]
    third += ["import pytensor.tensor as pt"] if tensor else []
    return [*stdlib, "", *third, *(i for i in extra if "scipy" in i)]


def emit_source(ir: ModelIR, design: Design) -> str:
    """The model planned by ``ir`` as a complete, runnable and readable Python module.

    ``design`` is the data the model was compiled from: its schema is what ``prepare(df)`` encodes.

    Example:
        >>> print(hm.Model("y ~ x + (1 | g)", df).source())      # doctest: +SKIP
    """
    names = Names(_RESERVED)
    e = Emitter(ir, names, DataEmitter(design.schema, ir, names))
    for name in [*(d.name for d in ir.data), *(p.name for p in ir.parameters())]:
        e.local(name)  # PyMC names keep their spelling as Python names
    for predictor in ir.predictors:  # level tables first: they are the schema's core
        for block in predictor.blocks:
            for factor in block.block.factors:
                e.data.level_table(factor)
    build = _build_model(e)
    cells = cell_data_function(e) if ir.reducible else []
    prepare = e.data.function()
    helpers = e.data.helper_sources()
    if e.custom is not None:
        helpers += distribution_sources(e.custom)
    if e.functions:
        helpers += distribution_function_sources(list(e.functions))
    if e.weighted is not None:
        helpers.append(weighted_source(*e.weighted))
    if e.censored is not None:
        helpers += [*likelihood_sources(["censored_loglik"]), censored_source(*e.censored)]
    helpers += likelihood_sources(list(likelihood_names(ir)))
    tensor = (
        ir.reducible
        or e.custom is not None
        or bool(e.functions)
        or e.censored is not None
        or any(re.search(r"\bpt\.", line) for line in build)  # e.g. pt.gamma
    )
    imports = _imports([*e.data.helpers, "complete_rows"], tensor=tensor)
    head = [*_docstring(ir, design.n), "", *imports, ""]
    sections = [
        "\n".join(head + e.data.constants),
        *helpers,
        "\n".join(prepare),
        "\n".join(cells),
        "\n".join(build),
        "\n".join(_main(e)),
    ]
    return "\n\n\n".join(s for s in sections if s) + "\n"
