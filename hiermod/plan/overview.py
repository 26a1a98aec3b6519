"""What ``repr(model)`` and the notebook view show: formula, blocks, parameters, priors.

::

    hiermod.Model: Reaction ~ 1 + Days + (1 + Days | Subject)
      family: gaussian (link: identity); rows: 180
      blocks:
        (1 + Days | Subject)  mu; grouping Subject; effects Intercept, Days; correlated;
            single layout (one grouping column); 18 levels, 18 observed cells
      parameters:
                      dims                   shape    free   prior
        Intercept                            ()       True   student_t(3, 298.5, 140.8)
        …
"""

from __future__ import annotations

import functools
import html

import pandas as pd

from hiermod.plan.ir import BlockIR, ModelIR, ParamSpec

__all__ = [
    "blocks_table",
    "describe_table",
    "overview_html",
    "overview_text",
    "parameters_table",
    "priors_table",
]


def _blocks(ir: ModelIR) -> list[tuple[str, BlockIR]]:
    return [(p.dpar, b) for p in ir.predictors for b in p.blocks]


def _correlated(ir: ModelIR) -> dict[str, bool]:
    """The level parameters (``beta_g``, ``r_g``) of the correlated blocks, each with whether its
    block is a pair written out (``BlockIR.two_terms``)."""
    return {
        spec.name: block.two_terms
        for _, block in _blocks(ir)
        if block.correlated
        for spec in (block.beta, block.r)
        if spec is not None
    }


def _prior(spec: ParamSpec, correlated: dict[str, bool]) -> str:
    if spec.role == "group_corr":  # the LKJ prior sits on the Cholesky factor (or corr_unit)
        return ""
    if spec.free and spec.role in ("group_coefficients", "group_effects"):  # centred blocks
        if spec.name in correlated:
            if correlated[spec.name]:  # a pair written out (BlockIR.corr_unit)
                return "centred: bivariate normal(mean, sd, corr)"
            return "centred: mvnormal(mean, chol)"
        return "centred: normal(mean, sd)"
    return (
        str(spec.prior) if spec.prior is not None else ("(deterministic)" if not spec.free else "")
    )


def _parameterisation(block: BlockIR) -> str:
    """``non-centred``, ``centred on 0`` or ``centred on Intercept, b[1]``."""
    if not block.centered:
        return "non-centred"
    if block.beta is None:
        return "centred on 0"
    return "centred on " + ", ".join("0" if t is None else str(t) for t in block.means)


def blocks_table(ir: ModelIR) -> pd.DataFrame:
    """One row per group block: grouping, effects, layout and why, correlation, levels and cells."""
    rows = [
        {
            "block": str(b.block),
            "dpar": dpar,
            "grouping": ":".join(b.block.factors),
            "effects": ", ".join(b.term_labels),
            "layout": b.layout,
            "why": b.layout_reason,
            "correlated": b.correlated,
            "parameterisation": _parameterisation(b),
            "levels": b.n_levels,
            "observed cells": b.n_cells_observed,
        }
        for dpar, b in _blocks(ir)
    ]
    return pd.DataFrame(rows)


def parameters_table(ir: ModelIR) -> pd.DataFrame:
    """One row per parameter: dims, shape, free or not, and its prior."""
    correlated = _correlated(ir)
    rows = [
        {
            "parameter": p.name,
            "dims": ", ".join(p.dims),
            "shape": p.shape,
            "free": p.free,
            "prior": _prior(p, correlated),
        }
        for p in ir.parameters()
    ]
    return pd.DataFrame(rows).set_index("parameter")


def describe_table(ir: ModelIR) -> pd.DataFrame:
    """One row per model variable: dims, shape, role, distributional parameter, source term, prior."""
    rows = [
        {
            "parameter": p.name,
            "dims": ", ".join(p.dims) if p.dims else "",
            "shape": p.shape,
            "role": p.role,
            "dpar": p.dpar,
            "free": p.free,
            "term": p.source,
            "prior": str(p.prior) if p.prior is not None else "",
        }
        for p in ir.parameters()
    ]
    return pd.DataFrame(rows).set_index("parameter")


def priors_table(ir: ModelIR) -> pd.DataFrame:
    """Every prior used: parameter, prior, and whether it is the default or the user's."""
    rows = [
        {"parameter": r.name, "prior": str(r.prior), "source": r.source, "key": r.detail}
        for r in ir.priors
    ]
    return pd.DataFrame(rows).set_index("parameter")


def _head(ir: ModelIR, n_rows: int) -> list[str]:
    lik = ir.likelihood
    return [
        f"hiermod.Model: {ir.formula}",
        f"  family: {lik.family} (link: {lik.link}); rows: {n_rows}",
    ]


def _left_aligned_text(table: pd.DataFrame) -> str:
    """``table.to_string()`` with text columns aligned left, as names and priors read best.

    pandas right-aligns every cell; a formatter that pads each text column's cells to the column's
    longest (``"b"`` -> ``"b   "`` beside ``"coef"``) makes pandas' right alignment a left one.
    """
    texts = {
        str(name): column.astype(str)
        for name, column in table.items()
        if not pd.api.types.is_bool_dtype(column) and not pd.api.types.is_numeric_dtype(column)
    }
    formatters = {
        name: functools.partial(_padded, width=int(text.str.len().max()))
        for name, text in texts.items()
    }
    return table.to_string(formatters=formatters, justify="left")


def _padded(value: object, width: int) -> str:
    return str(value).ljust(width)


def overview_text(ir: ModelIR, n_rows: int) -> str:
    """``repr(model)``: the plan ``ir`` of a model compiled from ``n_rows`` rows."""
    lines = _head(ir, n_rows)
    blocks = _blocks(ir)
    if blocks:
        lines.append("  blocks:")
    for dpar, b in blocks:
        kind = "correlated" if b.correlated else "independent"
        lines.append(
            f"    {b.block}  {dpar}; grouping {':'.join(b.block.factors)}; "
            f"effects {', '.join(b.term_labels)}; {kind}; {_parameterisation(b)};"
        )
        lines.append(
            f"        {b.layout} layout ({b.layout_reason}); {b.n_levels} levels, "
            f"{b.n_cells_observed} observed cells"
        )
    table = _left_aligned_text(parameters_table(ir).rename_axis(None))
    lines.append("  parameters:")
    lines.extend(f"    {line}".rstrip() for line in table.splitlines())
    return "\n".join(lines)


def overview_html(ir: ModelIR, n_rows: int) -> str:
    """The notebook view of a model: :func:`overview_text`'s head, then the tables."""
    head = "<br>".join(html.escape(line.strip()) for line in _head(ir, n_rows))
    parts = [f"<div><p><code>{head}</code></p>"]
    if _blocks(ir):
        parts.append(blocks_table(ir).to_html(index=False))
    parts.append(parameters_table(ir).to_html())
    return "".join(parts) + "</div>"
