"""Stage 2, data: a ``ModelFormula`` and a DataFrame → a :class:`~hiermod.data.design.Design`.

Input: the canonical formula (stage :mod:`hiermod.formula`), the data and the family. Output: the
``Design`` — an immutable ``Schema`` (column kinds, level tables, observed cells, transform
constants) plus the arrays a model needs (response, population columns, group codes) — made by
``bind`` from training data or by ``apply_schema`` for new rows with a stored schema.

Modules: ``design`` (the schema and design values), ``binder`` (``bind`` and ``apply_schema``),
``columns`` (column kinds, missing values, level codes, cells), ``transforms`` (evaluating formula
calls with NumPy), ``families`` (response families: links, parameters, response checks) and
``stream`` (scanning and encoding data larger than memory, chunk by chunk).

Imports: :mod:`hiermod.formula` and the shared leaves; never a later stage or :mod:`hiermod.model`.
"""
