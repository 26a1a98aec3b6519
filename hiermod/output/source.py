"""ModelIR → readable, runnable PyMC source: what ``Model.source()`` returns.

The module written has a docstring with the canonical formula, module-level constants for the schema
(level tables, labels, transform constants), ``prepare(df)`` (see :mod:`hiermod.output.source_data`), and
``build_model(df)``: coords, ``pm.Data`` containers, then one section per IR piece with a comment
saying which term it implements, how it pools and why. Running it with a CSV path fits the model.

As in :mod:`hiermod.output.build`, one small function per IR piece writes it (in
:mod:`hiermod.output.source_model`); this module writes the module around them: the docstring, the
imports, the coords and data containers of ``build_model``, and ``main``. The two must build the same
model: the tests run the emitted source and compare it with ``Model.pymc`` variable by variable and at
random points.

The package never runs the source it writes. Every data value is embedded by
:func:`~hiermod.output.codegen.literal` or :func:`~hiermod.output.codegen.comment_text`, so none can run as code.
"""

from __future__ import annotations

from hiermod.data.design import Design
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
from hiermod.output.source_data import DataEmitter
from hiermod.output.source_helpers import HELPER_NAMES, IMPORTS, weighted_source
from hiermod.output.source_model import Emitter, dims_code, emit_node
from hiermod.plan.ir import ConstantIR, ModelIR

__all__ = ["emit_source"]

# Names the generated module defines or imports; data-derived names never take them.
_RESERVED = (
    "np", "pd", "pm", "math", "warnings", "argparse", "BSpline",
    "prepare", "build_model", "main", "complete_rows", *HELPER_NAMES, "weighted_logp",
    "weighted_random",
    "df", "data", "coords", "model", "rows", "args", "parser", "idata", "var_names",
)  # fmt: skip

_SUMMARY_ROLES = ("intercept", "coefficients", "group_sd", "group_corr", "auxiliary")


def _labels(values: tuple[object, ...]) -> Seq:
    return tuple_of(literal(v) for v in values)


def _level_coords(e: Emitter, factor: str) -> Code:
    """A grouping factor's coords: its level table, as text (``str(level)``) if it is not text."""
    table = e.data.level_table(factor)
    if all(isinstance(v, str) for v in e.data.levels(factor)):
        return table
    return call("tuple", call("map", "str", table))


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
    ]
    return Seq("{", tuple(items), "}")


def _build_model(e: Emitter) -> list[str]:
    coords = _coords(e)
    body = comment("Data containers (pm.Data): swap in new rows with pm.set_data", 2)
    for spec in e.ir.data:
        value = Subscript("data", literal(spec.name))
        container = call("pm.Data", literal(spec.name), value, dims=dims_code(spec.dims))
        body += render(container, 2, f"{e.local(spec.name)} = ")
    for predictor in e.ir.predictors:
        body += ["", *emit_node(e, predictor).lines]
    for _, source in e.ir.likelihood.dpars:
        if isinstance(source, ConstantIR):
            body += ["", *emit_node(e, source).lines]
    body += ["", *emit_node(e, e.ir.likelihood).lines]
    return [
        "def build_model(df: pd.DataFrame) -> pm.Model:",
        '    """The PyMC model of ``df``, its rows encoded by ``prepare``."""',
        "    data = prepare(df)",
        *render(coords, 1, "coords = "),
        "    with pm.Model(coords=coords) as model:",
        *body,
        "    return model",
    ]


def _main(e: Emitter) -> list[str]:
    var_names = list_of(literal(p.name) for p in e.ir.parameters() if p.role in _SUMMARY_ROLES)
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
        *render(var_names, 1, "var_names = "),
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


def _imports(helpers: list[str]) -> list[str]:
    extra = [line for name in helpers for line in IMPORTS.get(name, ())]
    stdlib = sorted({"import argparse", "import warnings", *(i for i in extra if "scipy" not in i)})
    third = ["import numpy as np", "import pandas as pd", "import pymc as pm"]
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
    prepare = e.data.function()
    helpers = e.data.helper_sources()
    if e.weighted is not None:
        helpers.append(weighted_source(*e.weighted))
    head = [*_docstring(ir, design.n), "", *_imports([*e.data.helpers, "complete_rows"]), ""]
    sections = [
        "\n".join(head + e.data.constants),
        *helpers,
        "\n".join(prepare),
        "\n".join(build),
        "\n".join(_main(e)),
    ]
    return "\n\n\n".join(s for s in sections if s) + "\n"
