"""The PyMC source of a multivariate model: each response's module, tagged, in one module.

Each response is compiled as the univariate model it is (``y1 ~ x + (1 | g)``: its design, plan,
priors and source, row by row); this module composes those sources into one, so that the
multivariate model is still the module hiermod prints. In each response's part every name of the
model is tagged by the response, as brms tags them (docs/terms.md, "Multivariate responses"):

- parameters, data containers and dims: ``b`` → ``y1_b``, ``X`` → ``y1_X``, ``coef`` → ``y1_coef``;
  a distributional parameter's own names keep it first: ``sigma`` → ``sigma_y1``,
  ``sigma_b`` → ``sigma_y1_b`` (brms: ``sigma_y1``, ``b_sigma_y1``);
- the rows (``obs``) and the levels of grouping factors (``g``) are shared: one dim for all;
- module constants that differ between responses (``COEF``) get the response's prefix (``Y1_COEF``).

Renaming is by position, never by text search: Python names are the AST's ``Name`` nodes (not
keyword arguments or attributes), strings are only those in the places that hold a model name (the
first argument of ``pm.*``, ``dims=``, ``data[…]``, the keys of ``coords`` and of ``prepare``'s
dict), so column names and labels are never touched.

With residual correlation (brms's ``set_rescor(TRUE)``) the responses' Gaussian likelihoods are
replaced by one ``pm.MvNormal`` over the dim ``response``, with brms's ``Lrescor`` (an LKJ prior on
the Cholesky factor of the correlation) and ``rescor`` (its upper triangle, labelled ``y1__y2``);
without it each response keeps its own likelihood.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hiermod.output.codegen import comment_text, docstring_text, literal
from hiermod.output.source import main_lines
from hiermod.output.source_multivariate_ids import join_responses
from hiermod.plan.ir import ModelIR

__all__ = ["ResponsePart", "compose_source", "model_names", "rescor_labels", "tag"]

_COLUMNS = ("NUMERIC_COLUMNS", "CATEGORICAL_COLUMNS")
_FIXED_LOCALS = frozenset({"data", "model", "coords"})


@dataclass(frozen=True, slots=True)
class ResponsePart:
    """One response of a multivariate model: its name, family, plan and univariate source."""

    response: str
    family: str
    ir: ModelIR
    source: str

    @classmethod
    def of(cls, response: str, model: Any, ir: ModelIR, source: str) -> ResponsePart:
        """The part of ``response`` whose univariate ``model`` (``hm.Model``: family, link) has the
        plan ``ir`` and its ``source`` (the model's own, or of rows to predict)."""
        return cls(response, f"{model.family.name}, {model.link} link", ir, source)


def tag(name: str, response: str, dpars: Iterable[str] = ()) -> str:
    """A name of one response's model tagged by the response: ``b`` → ``y1_b``,
    ``sigma`` → ``sigma_y1``, ``sigma_b`` → ``sigma_y1_b``; a name already starting with the
    response (``y1_data``) or equal to it stays."""
    if name == response or name.startswith(f"{response}_"):
        return name
    for dpar in sorted(dpars, key=len, reverse=True):
        if name == dpar:
            return f"{dpar}_{response}"
        if name.startswith(f"{dpar}_"):
            return f"{dpar}_{response}_{name[len(dpar) + 1 :]}"
    return f"{response}_{name}"


def rescor_labels(responses: tuple[str, ...]) -> tuple[str, ...]:
    """brms's residual correlations in its order (``Rescor[j, k]``, j < k, by k then j), which is
    NumPy's ``triu_indices`` order: (y1, y2, y3) → y1__y2, y1__y3, y2__y3."""
    k = len(responses)
    return tuple(f"{responses[i]}__{responses[j]}" for i in range(k) for j in range(i + 1, k))


# -- renaming by position ---------------------------------------------------------------------------


def _edit(lines: list[str], edits: list[tuple[int, int, int, str]]) -> list[str]:
    """Replace (line, start, end) spans (1-based lines, 0-based columns) by new text."""
    out = list(lines)
    for line, start, end, text in sorted(edits, reverse=True):
        row = out[line - 1]
        out[line - 1] = row[:start] + text + row[end:]
    return out


def _name_string(node: ast.expr | None) -> ast.Constant | None:
    return node if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _model_strings(tree: ast.AST) -> Iterable[ast.Constant]:
    """The string constants of ``tree`` that hold model names (see the module docstring)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            owner = func.value if isinstance(func, ast.Attribute) else None
            if isinstance(owner, ast.Name) and owner.id == "pm" and node.args:
                yield from (s for s in [_name_string(node.args[0])] if s)
            for keyword in node.keywords:
                if keyword.arg == "dims":
                    values = keyword.value
                    items = values.elts if isinstance(values, ast.Tuple) else [values]
                    yield from (s for item in items if (s := _name_string(item)))
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            if node.value.id == "data" and (s := _name_string(node.slice)):
                yield s
        elif isinstance(node, ast.Dict):
            yield from (s for key in node.keys if (s := _name_string(key)))


def _rename(
    text: str, names: Mapping[str, str], strings: Mapping[str, str], *, all_strings: bool = False
) -> str:
    """``text`` (a complete statement or function) with Python names and model-name strings renamed."""
    tree = ast.parse(text)
    edits: list[tuple[int, int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            edits.append((node.lineno, node.col_offset, node.end_col_offset or 0, names[node.id]))
        elif isinstance(node, ast.FunctionDef) and node.name in names:
            start = text.splitlines()[node.lineno - 1].index(f"def {node.name}") + 4
            edits.append((node.lineno, start, start + len(node.name), names[node.name]))
    targets = ast.walk(tree) if all_strings else _model_strings(tree)
    for node in targets:
        if not isinstance(node, ast.Constant):
            continue
        value = node.value
        if isinstance(value, str) and value in strings and node.lineno == node.end_lineno:
            new = literal(strings[value])
            edits.append((node.lineno, node.col_offset, node.end_col_offset or 0, new))
    return "\n".join(_edit(text.splitlines(), edits))


# -- reading one response's module ------------------------------------------------------------------


@dataclass
class _Module:
    """The top-level pieces of one generated module."""

    lines: list[str]
    imports: list[str]
    constants: dict[str, tuple[str, str]]  # name -> (comment lines, value text)
    functions: dict[str, str]
    tree: ast.Module

    @classmethod
    def read(cls, source: str) -> _Module:
        tree = ast.parse(source)
        lines = source.splitlines()
        imports: list[str] = []
        constants: dict[str, tuple[str, str]] = {}
        functions: dict[str, str] = {}
        for node in tree.body:
            text = "\n".join(lines[node.lineno - 1 : node.end_lineno])
            if isinstance(node, ast.Import | ast.ImportFrom):
                imports.append(text)
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                comments: list[str] = []
                row = node.lineno - 2
                while row >= 0 and lines[row].startswith("#"):
                    comments.insert(0, lines[row])
                    row -= 1
                value = ast.get_source_segment(source, node.value) or ""
                constants[node.targets[0].id] = ("\n".join(comments), value)
            elif isinstance(node, ast.FunctionDef):
                functions[node.name] = text
        return cls(lines, imports, constants, functions, tree)

    def function(self, name: str) -> ast.FunctionDef:
        return next(n for n in self.tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


def _shared_dims(ir: ModelIR) -> set[str]:
    dims = {"obs"}
    for predictor in ir.predictors:
        for block in predictor.blocks:
            dims.update(block.level_dims)
    return dims


def _strings(part: ResponsePart) -> dict[str, str]:
    return model_names(part.ir, part.response)


def model_names(ir: ModelIR, response: str) -> dict[str, str]:
    """Model names of one response → their tagged names (parameters, data, non-shared dims)."""
    dpars = [d for d, _ in ir.likelihood.dpars if d != "mu"]
    names = [p.name for p in ir.parameters()] + [d.name for d in ir.data]
    names += [d for d in ir.coords if d not in _shared_dims(ir)]
    for p in ir.parameters():
        names += [d for d in p.dims if d not in _shared_dims(ir)]
    return {n: tag(n, response, dpars) for n in names}


def _constant_names(modules: Mapping[str, _Module]) -> dict[str, dict[str, str]]:
    """Per response, the module constants renamed: those whose value differs between the responses
    get the response's prefix (``Y1_COEF``), the others keep their name."""
    values: dict[str, set[str]] = {}
    for module in modules.values():
        for name, (_, value) in module.constants.items():
            values.setdefault(name, set()).add(value)
    out: dict[str, dict[str, str]] = {}
    for response, module in modules.items():
        prefix = response.upper()
        out[response] = {
            n: f"{prefix}_{n}"
            for n in module.constants
            if len(values[n]) > 1 and n not in _COLUMNS and not n.startswith(f"{prefix}_")
        }
    return out


def _locals(function: ast.FunctionDef) -> set[str]:
    return {
        n.id
        for n in ast.walk(function)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id not in _FIXED_LOCALS
    }


@dataclass
class _Body:
    """One response's part of ``build_model``: its coords, statements and likelihood's arguments."""

    coords: dict[str, str]
    lines: list[str]
    likelihood: dict[str, str]


def _body(part: ResponsePart, module: _Module, constants: Mapping[str, str], rescor: bool) -> _Body:
    function = module.function("build_model")
    dpars = [d for d, _ in part.ir.likelihood.dpars]  # mu too: the local mu is mu_y1
    names = {n: tag(n, part.response, dpars) for n in _locals(function)} | dict(constants)
    text = _rename(module.functions["build_model"], names, _strings(part))
    renamed = ast.parse(text).body[0]
    assert isinstance(renamed, ast.FunctionDef)
    lines = text.splitlines()
    coords: dict[str, str] = {}
    with_node = next(n for n in renamed.body if isinstance(n, ast.With))
    for node in renamed.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                assert isinstance(key, ast.Constant)
                coords[str(key.value)] = ast.get_source_segment(text, value) or ""
    start, end = with_node.body[0].lineno, with_node.end_lineno or 0
    while lines[start - 2].strip().startswith("#"):
        start -= 1
    likelihood: dict[str, str] = {}
    last = with_node.body[-1]
    if rescor and isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        likelihood = {
            k.arg: ast.get_source_segment(text, k.value) or ""
            for k in last.value.keywords
            if k.arg is not None
        }
        end = last.lineno - 1
        while lines[end - 1].strip().startswith("#"):
            end -= 1
    return _Body(coords, lines[start - 1 : end], likelihood)


def _rescor_lines(parts: list[ResponsePart], bodies: list[_Body], eta: float) -> list[str]:
    """brms's ``Lrescor`` and ``rescor`` and the MvNormal of the responses."""
    k = len(parts)
    mus = ", ".join(b.likelihood["mu"] for b in bodies)
    sigmas = [b.likelihood["sigma"] for b in bodies]
    constant = all(_is_constant(p, s) for p, s in zip(parts, sigmas, strict=True))
    names = ", ".join(p.response for p in parts)
    lines = [
        "",
        f"        # Residual correlation of {names} (brms's rescor): LKJ({eta:g}) prior on the",
        "        # Cholesky factor of the correlation, Lrescor; the residual covariance is",
        "        # diag(sigma) @ Lrescor @ Lrescor.T @ diag(sigma), sigma one per response.",
        f'        Lrescor = pm.LKJCorr("Lrescor", n={k}, eta={float(eta)!r})',
        "        Rescor = Lrescor @ Lrescor.T",
        f'        pm.Deterministic("rescor", Rescor[np.triu_indices({k}, 1)], dims="response_pair")',
        f"        mu = pt.stack([{mus}], axis=1)",
    ]
    if constant:
        lines += [
            f"        sigma = pt.stack([{', '.join(sigmas)}])",
            "        chol = sigma[:, None] * Lrescor",
        ]
    else:
        rows = [f"            pt.broadcast_to({s}, mu.shape[:1])," for s in sigmas]
        lines += [
            "        # a sigma per row: one Cholesky factor per row",
            "        sigma = pt.stack(",
            "            [",
            *(f"    {row}" for row in rows),
            "            ],",
            "            axis=1,",
            "        )",
            "        chol = sigma[:, :, None] * Lrescor",
        ]
    lines += [
        "        # Likelihood: multivariate normal of the responses, one term per row (dim obs)",
        "        pm.MvNormal(",
        '            "Y", mu=mu, chol=chol, observed=data["Y"], dims=("obs", "response")',
        "        )",
    ]
    return lines


def _tagger(part: ResponsePart) -> Callable[[str], str]:
    """Tags a name of the response's part as its locals are (``r_g_id_p`` → ``y1_r_g_id_p``)."""
    dpars = [d for d, _ in part.ir.likelihood.dpars]
    return lambda name: tag(name, part.response, dpars)


def _is_constant(part: ResponsePart, sigma: str) -> bool:
    return any(
        p.name == "sigma" and p.dpar == "sigma" for p in (c.param for c in part.ir.constants)
    ) and sigma == tag("sigma", part.response, ["sigma"])


def _prepare(parts: list[ResponsePart], rescor: bool) -> list[str]:
    calls = ", ".join(f"**prepare_{p.response}(df)" for p in parts)
    lines = [
        "def prepare(df: pd.DataFrame) -> dict[str, np.ndarray]:",
        '    """Encode ``df`` as the training data was encoded: one array per data container.',
        "",
        "    A row is kept only when every column of every response's formula has a value;",
        "    ``rows`` holds the positions of the rows kept (the ``obs`` coordinate).",
        '    """',
        "    rows = complete_rows(df)",
        "    df = df.iloc[rows]",
        f"    data = {{{calls}}}",
        '    data["rows"] = rows',
    ]
    if rescor:
        observed = ", ".join(f"data[{literal(p.ir.likelihood.observed)}]" for p in parts)
        lines.append(f'    data["Y"] = np.column_stack([{observed}])')
    return [*lines, "    return data"]


def _var_names(part: ResponsePart, module: _Module) -> list[str]:
    main = module.function("main")
    for node in ast.walk(main):
        target = node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(target, ast.Name) and target.id == "var_names":
            assert isinstance(node, ast.Assign)
            values = ast.literal_eval(node.value)
            return [_strings(part).get(v, v) for v in values]
    return []


def compose_source(
    parts: list[ResponsePart],
    formula: str,
    n_rows: int,
    *,
    rescor: bool,
    eta: float = 1.0,
    block_ids: tuple[str, ...] = (),
) -> str:
    """The multivariate model as one runnable module, from each response's univariate source;
    the blocks of ``block_ids`` share one correlation across the responses."""
    modules = {p.response: _Module.read(p.source) for p in parts}
    constants = _constant_names(modules)
    responses = tuple(p.response for p in parts)
    imports = sorted(
        {i for m in modules.values() for i in m.imports if not i.startswith("import pytensor")}
    )
    stdlib = [i for i in imports if i.split()[1].split(".")[0] in ("argparse", "warnings", "math")]
    third = [i for i in imports if i not in stdlib]
    tensor = rescor or any(
        i.startswith("import pytensor") for m in modules.values() for i in m.imports
    )
    third += ["import pytensor.tensor as pt"] if tensor else []
    families = docstring_text(", ".join(f"{p.response} ({p.family})" for p in parts))
    head = [
        '"""A PyMC model written by hiermod from the multivariate formula',
        "",
        f"    {docstring_text(formula)}",
        "",
        *textwrap.wrap(
            f"Responses: {families}; residual correlation (rescor): {'yes' if rescor else 'no'}.",
            95,
            break_long_words=False,
            break_on_hyphens=False,
        ),
        f"Compiled from {n_rows} rows. Each response's part is its own model, its names tagged by",
        "the response (b -> y1_b, sigma -> sigma_y1). ``prepare(df)`` encodes a DataFrame as the",
        "training data was encoded and ``build_model(df)`` returns the PyMC model.",
        '"""',
        "",
        *stdlib,
        "",
        *third,
    ]
    # constants: each once (renamed where the responses differ); the columns: every response's
    seen: set[str] = set()
    constant_lines: list[str] = []
    columns: dict[str, list[object]] = {c: [] for c in _COLUMNS}
    for response, module in modules.items():
        for name, (comment, value) in module.constants.items():
            if name in _COLUMNS:
                for v in ast.literal_eval(value):
                    columns[name] += [v] if v not in columns[name] else []
                continue
            new = constants[response].get(name, name)
            if new in seen:
                continue
            seen.add(new)
            constant_lines += (
                [comment, f"{new} = {value}", ""] if comment else [f"{new} = {value}", ""]
            )
    constant_lines += [
        f"# Responses of the model, in order (dim response)\nRESPONSES = {literal(responses)}",
        "",
    ]
    constant_lines += ["# Columns the model reads (every response's)"]
    constant_lines += [f"{c} = {literal(tuple(columns[c]))}" for c in _COLUMNS]
    helpers: dict[str, str] = {}
    for module in modules.values():
        for name, text in module.functions.items():
            if name not in ("prepare", "build_model", "main", "cell_data"):
                helpers.setdefault(name, text)
    prepares = [
        _rename(
            modules[p.response].functions["prepare"],
            {"prepare": f"prepare_{p.response}"} | constants[p.response],
            _strings(p),
        )
        for p in parts
    ]
    bodies = [_body(p, modules[p.response], constants[p.response], rescor) for p in parts]
    coords: dict[str, str] = {}
    for body in bodies:
        for key, value in body.coords.items():
            if coords.setdefault(key, value) != value:
                raise AssertionError(f"the responses' coordinates {key!r} differ")
    tags = [_tagger(p) for p in parts]
    lines, shared = join_responses(
        [p.ir for p in parts], [b.lines for b in bodies], tags, block_ids
    )
    for body, edited, tagger in zip(bodies, lines, tags, strict=True):
        body.lines = edited
        for joint in shared:  # the response's own joint dims are gone with its joint
            for dim in joint.coords:
                coords.pop(tagger(dim), None)
    for joint in shared:
        coords |= {dim: literal(labels) for dim, labels in joint.coords.items()}
    coords["response"] = "RESPONSES"
    if rescor:
        coords["response_pair"] = literal(rescor_labels(responses))
    build = [
        "def build_model(data: pd.DataFrame | dict[str, np.ndarray]) -> pm.Model:",
        '    """The PyMC model of ``data``: a DataFrame, or the arrays ``prepare`` returns."""',
        "    if isinstance(data, pd.DataFrame):",
        "        data = prepare(data)",
        "    coords = {",
        *(f"        {literal(k)}: {v}," for k, v in coords.items()),
        "    }",
        "    with pm.Model(coords=coords) as model:",
    ]
    build += [line for joint in shared for line in joint.lines]
    for part, body in zip(parts, bodies, strict=True):
        formula_text = comment_text(part.ir.formula)
        build += [
            f"        # ---- response {part.response}: {formula_text} ({part.family})",
            *body.lines,
            "",
        ]
    if rescor:
        build += _rescor_lines(parts, bodies, eta)[1:]
    while build[-1] == "":
        build.pop()
    build.append("    return model")
    var_names = [v for p in parts for v in _var_names(p, modules[p.response])]
    var_names += ["rescor"] if rescor else []
    sections = [
        "\n".join(head),
        "\n".join(constant_lines),
        *helpers.values(),
        *prepares,
        "\n".join(_prepare(parts, rescor)),
        "\n".join(build),
        "\n".join(main_lines(var_names)),
    ]
    return "\n\n\n".join(sections) + "\n"
