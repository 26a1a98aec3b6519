"""``prepare(df)`` of the generated source: a DataFrame encoded exactly as :func:`hiermod.data.binder.bind`
encoded the training data.

Every decision is read from the stored :class:`~hiermod.data.design.Schema` and written as a module-level
constant: level tables (code ``i`` is the ``i``-th level), observed cells, centring constants,
polynomial and spline constants. The rules mirror :mod:`hiermod.data.design`,
:mod:`hiermod.data.columns` and :mod:`hiermod.data.transforms` one for one: rows with a missing value in a used column are dropped (R's ``na.omit``); a categorical
term gets one indicator column per level (the reference level left out when the term's margin is in
the model, :func:`~hiermod.data.design.term_codings`); an interaction's columns are products with the
first factor varying fastest; a grouping becomes codes, a flat cell index (dense layout) or an index
into the observed cells. Helpers (``poly_basis``, ``bspline_basis``, …) are emitted only when used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hiermod.data.columns import argument, used_columns
from hiermod.data.design import Schema, term_codings
from hiermod.data.families import get_family
from hiermod.formula.gp import ordinary_terms
from hiermod.formula.monotonic import split_monotonic
from hiermod.formula.syntax import Arith, ArithNode, Call, Name, Number, UnaryMinus, format_number
from hiermod.formula.terms import Atom, Block, Term
from hiermod.output import source_smooth_data as smooth
from hiermod.output.codegen import (
    Chain,
    Code,
    EmitError,
    Item,
    Names,
    Seq,
    Subscript,
    call,
    comment,
    flat,
    list_of,
    literal,
    render,
    tuple_of,
)
from hiermod.output.source_by_data import by_containers
from hiermod.output.source_censoring import additions, response_bounds
from hiermod.output.source_gp_data import gp_containers
from hiermod.output.source_helpers import complete_rows_source, helper_sources
from hiermod.output.source_monotonic_data import monotonic_containers
from hiermod.output.source_tensor import tensor_code
from hiermod.plan.ir import BlockIR, ModelIR
from hiermod.plan.names import identifier

__all__ = ["DataEmitter"]

_ELEMENTWISE = ("log", "log1p", "log2", "log10", "exp", "sqrt", "abs")  # np.<name>, as transforms
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 4}  # unary minus 3, atoms 5
_SIMPLE = re.compile(r"-?(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*|\d[\d.e-]*)")


@dataclass(frozen=True, slots=True)
class Column:
    """One design-matrix column: its code, its label, and whether the code gives booleans."""

    code: str | Chain
    label: str
    boolean: bool = False

    def times(self, other: Column) -> Column:
        """The interaction column ``self * other`` (a product chain)."""
        code = self.code
        rest = (*code.rest, ("*", other.code)) if isinstance(code, Chain) else (("*", other.code),)
        first = code.first if isinstance(code, Chain) else code
        label = f"{self.label}:{other.label}"
        return Column(Chain(first, rest), label, self.boolean and other.boolean)


def _number(value: float) -> str:
    text = format_number(value)
    return literal(float(text)) if not text.lstrip("-").isdigit() else text


def _floats(values: tuple[float, ...]) -> Seq:
    return tuple_of(literal(float(v)) for v in values)


def _successes(value: ArithNode) -> ArithNode:
    """The response's numbers: ``y`` of ``log(y)``'s column, the successes of ``cbind(s, f)``."""
    if isinstance(value, Call) and value.func == "cbind":
        return value.args[0]
    return value


def _simple(code: str) -> bool:
    """ruff's "simple" power operand: ``x**2`` and ``a.b**-1`` hug, ``x[0] ** 2`` does not."""
    return _SIMPLE.fullmatch(code) is not None


class _PrepareCode:
    """What the generated module collects around ``prepare``: module-level constants (level
    tables, cells, transform constants), the helpers used, and the statements of ``prepare``."""

    def __init__(self, schema: Schema, names: Names) -> None:
        self.schema, self.names = schema, names
        self.constants: list[str] = []  # module-level lines
        self.helpers: list[str] = []  # helper names, in order of first use
        self.statements: list[str] = []  # body of prepare before its return
        self._constants: dict[tuple[str, str], str] = {}
        self._locals: dict[str, str] = {}

    # -- module-level constants and helpers -------------------------------------------------------

    def constant(self, wanted: str, value: Code, note: str = "") -> str:
        """A module-level constant (one per distinct name and value), with a comment line."""
        key = (wanted, "\n".join(render(value, 0)))  # the whole value: a long one spans lines
        if key not in self._constants:
            name = self.names.claim(wanted.upper())
            self._constants[key] = name
            if note:
                self.constants += ["", *comment(note, 0)] if self.constants else comment(note, 0)
            self.constants += render(value, 0, f"{name} = ")
        return self._constants[key]

    def helper(self, name: str) -> str:
        if name not in self.helpers:
            self.helpers.append(name)
        return name

    def level_table(self, column: str, levels: tuple[object, ...] | None = None) -> str:
        """The constant holding a categorical column's levels, in code order."""
        levels = self.levels(column) if levels is None else levels
        return self.constant(
            f"{identifier(column)}_LEVELS",
            tuple_of(literal(v) for v in levels),
            f"Levels of {column!r} in code order (code i is the i-th level)",
        )

    def levels(self, column: str) -> tuple[object, ...]:
        if column in self.schema.factor_levels:
            return tuple(self.schema.factor_levels[column])
        return tuple(self.schema.columns[column].levels)

    def cells_table(self, factors: tuple[str, ...]) -> str:
        """The constant of a grouping's observed cells, as rows of level codes."""
        grouping = self.schema.groupings[factors]
        cells = tuple_of(literal(tuple(int(c) for c in row)) for row in grouping.cells.tolist())
        return self.constant(
            f"{'__'.join(identifier(f) for f in factors)}_CELLS",
            cells,
            f"Observed ({', '.join(factors)}) cells as level codes, in index order",
        )

    # -- locals of prepare ----------------------------------------------------------------------------

    def local(self, key: str, wanted: str, value: Code) -> str:
        if key not in self._locals:
            name = self.names.claim(wanted.lower())
            self._locals[key] = name
            self.statements += render(value, 1, f"{name} = ")
        return self._locals[key]

    def column(self, name: str) -> str:
        """A column read as numbers (booleans count 0/1)."""
        value = call("np.asarray", Subscript("df", literal(name)), dtype="float")
        return self.local(f"column {name}", name, value)

    def codes(self, name: str, levels: tuple[object, ...] | None = None) -> str:
        """Each row's level code of a categorical column."""
        table = self.level_table(name, levels)
        value = call(self.helper("known_codes"), Subscript("df", literal(name)), table)
        return self.local(f"codes {name} {table}", name, value)  # C(f, levels=…) orders f anew


class _NumericCode:
    """Code for numeric expressions: columns, arithmetic and calls (mirrors transforms.Evaluator),
    with their constants and locals written to ``out``."""

    def __init__(self, out: _PrepareCode) -> None:
        self.out = out

    def expr(self, node: ArithNode) -> tuple[str, int]:
        """Code and precedence of a numeric node."""
        if isinstance(node, Name):
            return self.out.column(node.name), 5
        if isinstance(node, Number):
            return _number(node.value), 5
        if isinstance(node, UnaryMinus):
            inner, prec = self.expr(node.operand)
            return (f"-({inner})" if prec < 3 else f"-{inner}"), 3
        if isinstance(node, Arith):
            return self._arith(node)
        if isinstance(node, Call):
            return self._call(node)
        raise EmitError(f"no numeric code for {node}")

    def _arith(self, node: Arith) -> tuple[str, int]:
        mine = _PRECEDENCE[node.op]
        left, lp = self.expr(node.left)
        right, rp = self.expr(node.right)
        if lp < mine or (node.op == "**" and lp == mine):
            left = f"({left})"
        if (rp < 3) if node.op == "**" else (rp <= mine):
            right = f"({right})"
        if node.op == "**":
            hug = _simple(left) and _simple(right)
            return (f"{left}**{right}" if hug else f"{left} ** {right}"), mine
        return f"{left} {node.op} {right}", mine

    def _call(self, node: Call) -> tuple[str, int]:
        data = argument(node, 0, "x")
        if data is None:
            raise EmitError(f"{node} has no argument")
        inner, prec = self.expr(data)
        if node.func in _ELEMENTWISE:
            return f"np.{node.func}({inner})", 5
        if node.func in ("I", "offset"):
            return inner, prec
        state = self.out.schema.transforms[str(node)]
        arg = identifier(str(data))
        mean = self.out.constant(
            f"{arg}_MEAN", literal(float(state.get("mean"))), f"mean of {data} in the training data"
        )
        if node.func == "center":
            return f"{inner} - {mean}", 1
        if node.func in ("scale", "standardize"):
            sd = self.out.constant(
                f"{arg}_SD", literal(float(state.get("sd"))), f"sd of {data} in the training data"
            )
            return f"({inner} - {mean}) / {sd}", 2
        raise EmitError(f"{node.func}() does not give one numeric column")

    def operand(self, atom: ArithNode) -> str:
        """A numeric atom as a name (its own local unless it is a plain column)."""
        code, _ = self.expr(atom)
        if isinstance(atom, Number):
            code = f"np.full(len(df), {code})"
        return code if code.isidentifier() else self.out.local(f"atom {atom}", str(atom), code)

    def basis(self, node: Call) -> tuple[str, int]:
        """A local holding the basis matrix of ``poly()`` or ``bs()``, and its number of columns."""
        data = argument(node, 0, "x")
        assert data is not None
        x = self.operand(data)
        stem, key = identifier(str(node)), str(node)
        state = self.out.schema.transforms.get(key)
        if node.func == "poly" and state is None:  # raw=TRUE: plain powers
            degree = argument(node, 1, "degree")
            k = int(degree.value) if isinstance(degree, Number) else 1
            return self.out.local(key, stem, f"{x}[:, None] ** np.arange(1, {k + 1})"), k
        if state is None:
            raise EmitError(f"no stored constants for {node}")
        if node.func in ("s", "t2"):  # hiermod.output.source_smooth_data, source_tensor
            if node.func == "t2":
                value, k = tensor_code(self.out, node, [self.operand(a) for a in node.args])
            else:  # s(x, z): two columns
                if len(node.args) > 1:
                    x = f"np.column_stack([{', '.join(self.operand(a) for a in node.args)}])"
                value, k = smooth.basis_code(self.out, node, x)
            value, k = smooth.by_code(self.out, node, value, k, self.operand)
            return self.out.local(key, stem, value), k
        if node.func == "poly":
            alpha, norm2 = state.get("alpha"), state.get("norm2")
            value = call(
                self.out.helper("poly_basis"),
                x,
                self.out.constant(f"{stem}_ALPHA", _floats(alpha), f"{node}: R's recurrence"),
                self.out.constant(f"{stem}_NORM2", _floats(norm2)),
            )
            return self.out.local(key, stem, value), len(alpha)
        knots, spline_degree = tuple(state.get("knots")), int(state.get("degree"))
        value = call(
            self.out.helper("bspline_basis"),
            x,
            self.out.constant(f"{stem}_KNOTS", _floats(knots), f"{node}: interior knots"),
            self.out.constant(f"{stem}_BOUNDARY", _floats(state.get("boundary"))),
            str(spline_degree),
        )
        return self.out.local(key, stem, value), len(knots) + spline_degree


class DataEmitter(_PrepareCode):
    """Collects the constants, helpers and statements of ``prepare`` for one model."""

    def __init__(self, schema: Schema, ir: ModelIR, names: Names) -> None:
        super().__init__(schema, names)
        self.ir, self.complete_rows = ir, ""
        self.numeric = _NumericCode(self)

    # -- design columns (mirrors row_columns.TermColumns.columns) --------------------------------------

    def _is_categorical(self, atom: Atom) -> bool:
        if isinstance(atom, Call):
            return atom.func == "C"
        return self.schema.columns[atom.name].kind == "categorical"

    def _atom(self, atom: Atom, full: bool | None) -> list[Column]:
        if full is None:
            if isinstance(atom, Call) and atom.func in ("poly", "bs", "s", "t2"):
                local, k = self.numeric.basis(atom)
                labels = smooth.labels(atom, k, self.schema)  # poly(x, 2)[1], s(x)[1], …
                return [Column(f"{local}[:, {j}]", label) for j, label in enumerate(labels)]
            return [Column(self.numeric.operand(atom), str(atom))]
        key = str(atom) if isinstance(atom, Call) else atom.name
        node = atom if isinstance(atom, Name) else argument(atom, 0, "x")
        assert isinstance(node, Name)
        stored = self.schema.columns[key]
        codes = self.codes(node.name, tuple(stored.levels))
        last = len(stored.levels) - 1
        columns = []
        for j in stored.coded_levels(bool(full)):
            label = f"{atom}[{stored.levels[j]}]"
            if stored.contrast == "sum" and not full:
                # Sum coding (R's contr.sum): level j's indicator, -1 in the rows of the last level.
                columns.append(Column(f"np.where({codes} == {last}, -1.0, {codes} == {j})", label))
            else:
                columns.append(Column(f"({codes} == {j})", label, boolean=True))
        return columns

    def columns(self, terms: tuple[Term, ...], intercept: bool) -> list[Column]:
        out: list[Column] = []
        for term, full in zip(
            terms, term_codings(terms, intercept, self._is_categorical), strict=True
        ):
            cols = self._atom(term.factors[0], full.get(term.factors[0]))
            for atom in term.factors[1:]:
                more = self._atom(atom, full.get(atom))
                cols = [a.times(b) for b in more for a in cols]
            out += cols
        return out

    def matrix(self, columns: list[Column], labels: tuple[str, ...]) -> Seq:
        """``np.asfortranarray(np.stack([...], axis=1))``, a comment per column whose code does
        not say its label."""
        if tuple(c.label for c in columns) != tuple(labels):  # pragma: no cover - design changed
            raise EmitError(f"columns {[c.label for c in columns]} do not match {list(labels)}")
        notes = [
            c.label if identifier(c.label).lower() != flat(c.code).lower() else "" for c in columns
        ]
        kwargs: dict[str, Code] = {"axis": "1"}
        if any(c.boolean for c in columns):
            kwargs["dtype"] = "float"
        # Column-major, as hiermod's own design: the model reads the matrix column by column
        # (Z[:, j] per effect), which is 1.6x faster per gradient at 100k rows than row-major.
        stacked = call("np.stack", list_of([c.code for c in columns], notes), **kwargs)
        return call("np.asfortranarray", stacked)

    # -- the containers --------------------------------------------------------------------------------

    def response(self) -> Code:
        response, stored = self.schema.formula.response, self.schema.response
        assert response is not None
        assert stored is not None
        if stored.kind == "categorical":
            levels = self.constant(
                "RESPONSE_LEVELS",
                tuple_of(literal(v) for v in stored.levels),
                f"{stored.name!r} is coded 0 for the first level, 1 for the second",
            )
            column = Subscript("df", literal(self.schema.formula.main.lhs_name))  # ordered(y, …): y
            return Seq(
                f"{self.helper('known_codes')}(", (Item(column), Item(levels)), ").astype(float)"
            )
        value = response.value
        if isinstance(value, Call) and get_family(self.schema.family).columns_response:
            # cbind(a, b, c) of the multinomial and Dirichlet families: a column per category
            columns = [self.numeric.expr(a)[0] for a in value.args]
            return call("np.column_stack", list_of(columns))  # floats: numeric() is float
        return self.numeric.expr(_successes(value))[0]

    def index(self, block: BlockIR, syntax: Block) -> Code:
        factors = syntax.factors
        if block.layout == "single":
            return self.codes(factors[0])
        codes = tuple_of([self.codes(f) for f in factors])
        if block.layout == "dense":
            sizes = tuple_of([f"len({self.level_table(f)})" for f in factors])
            return call("np.ravel_multi_index", codes, sizes)
        return call(self.helper("cell_index"), codes, self.cells_table(factors))

    def effects(self, block: BlockIR, syntax: Block) -> Code:
        """The block's Z: its effect columns (a ones column first for an intercept)."""
        columns = self.columns(syntax.terms, syntax.intercept)
        if block.term_dim is None:
            (column,) = columns
            if not column.boolean:
                return column.code
            code = flat(column.code)  # an indicator is already in parentheses, a product is not
            return (
                f"({code}).astype(float)"
                if isinstance(column.code, Chain)
                else f"{code}.astype(float)"
            )
        if syntax.intercept:
            columns = [Column("np.ones(len(df))", "Intercept"), *columns]
        return self.matrix(columns, block.term_labels)

    def containers(self) -> dict[str, Code]:
        """Code for each data container, by container name."""
        ir, model_formula = self.ir, self.schema.formula
        lik = ir.likelihood
        values: dict[str, Code] = {lik.observed: self.response()}
        for predictor in ir.predictors:
            # a categorical model's mub, muc, … without a formula of their own have mu's
            formula = model_formula.dpars.get(predictor.dpar, model_formula.main)
            pop = predictor.population
            if pop.X is not None:
                terms = ordinary_terms(split_monotonic(formula.terms)[0])  # not columns of X
                values[pop.X] = self.matrix(self.columns(terms, formula.intercept), pop.coef_labels)
            values |= gp_containers(self, self.numeric.operand, self.schema, predictor, formula)
            for block, syntax in zip(predictor.blocks, formula.blocks, strict=True):
                if block.index not in values:  # blocks over one grouping share their index
                    values[block.index] = self.index(block, syntax)
                if block.Z is not None:
                    values[block.Z] = self.effects(block, syntax)
            values |= by_containers(self, self.schema, predictor)  # gr(g, by = f)
            values.update(monotonic_containers(self, predictor, formula))
            values.update(smooth.containers(self.numeric, formula, predictor))  # s(x)'s Zs
            if predictor.offset is not None:
                offsets = [self.numeric.expr(o)[0] for o in formula.offsets]
                if predictor.dpar == "mu":  # rate(exposure): log(exposure) is an offset of mu
                    offsets += [f"np.log({self.numeric.expr(r)[0]})" for r in _rates(self.schema)]
                values[predictor.offset] = (
                    offsets[0] if len(offsets) == 1 else call("np.sum", tuple_of(offsets), axis="0")
                )
        se = next((v for _, v in lik.dpars if isinstance(v, str)), None)
        targets = {"trials": lik.trials, "weights": lik.weights, "se": se}
        response = self.schema.formula.response
        assert response is not None
        counts = response.value
        if isinstance(counts, Call) and counts.func == "cbind" and lik.trials is not None:
            # lme4's cbind(successes, failures), a multinomial's cbind(a, b, c): trials = the sum
            total = " + ".join(self.numeric.operand(a) for a in counts.args)
            values[lik.trials] = f"({total}).astype(np.int64)"
        for addition in response.additions:
            name = targets.get(addition.func)
            data = argument(addition, 0, "x")
            if name is not None and data is not None:
                code = self.numeric.expr(data)[0]
                if addition.func == "trials" and isinstance(data, Number):  # trials(10)
                    code = f"np.full(len(df), {code}, dtype=np.int64)"
                elif addition.func == "trials":
                    code = f"{code if code.isidentifier() else f'({code})'}.astype(np.int64)"
                values[name] = code
        values.update(response_bounds(self, lik, values[lik.observed]))
        missing = [d.name for d in ir.data if d.name not in values]
        if missing:  # pragma: no cover - a container kind the emitter does not know
            raise EmitError(f"no code for the data containers {missing}")
        return values

    # -- the function ------------------------------------------------------------------------------------

    def function(self) -> list[str]:
        """The ``prepare`` function (call after everything else asked for constants)."""
        values = self.containers()
        used = used_columns(self.schema.formula, self.schema.columns, response=True)
        numeric = [n for n in used if self.schema.columns[n].kind == "numeric"]
        categorical = [n for n in used if n not in numeric]
        if numeric:
            columns = tuple_of(literal(n) for n in numeric)
            self.constant("NUMERIC_COLUMNS", columns, "Columns the model reads")
        if categorical:
            self.constant("CATEGORICAL_COLUMNS", tuple_of(literal(n) for n in categorical))
        self.complete_rows = complete_rows_source(bool(numeric), bool(categorical))
        entries = [("rows", "rows")] + [(d.name, values[d.name]) for d in self.ir.data]
        result = Seq("{", tuple(Item(v, f"{literal(k)}: ") for k, v in entries), "}")
        head = [
            "def prepare(df: pd.DataFrame) -> dict[str, np.ndarray]:",
            '    """Encode ``df`` as the training data was encoded: one array per data container.',
            "",
            "    Rows with a missing value (NaN, None, inf) in a column the model reads are dropped;",
            "    ``rows`` holds the positions of the rows kept (the ``obs`` coordinate).",
            '    """',
            "    rows = complete_rows(df)",
            "    df = df.iloc[rows]",
        ]
        return [*head, *self.statements, *render(result, 1, "return ")]

    def helper_sources(self) -> list[str]:
        """The helper functions ``prepare`` calls, ``complete_rows`` last."""
        return [*helper_sources(self.helpers), self.complete_rows]


def _rates(schema: Schema) -> list[ArithNode]:
    """The exposures of ``rate(e)`` (log(e) is an offset of mu)."""
    return [a.args[0] for a in additions(schema, "rate")]
