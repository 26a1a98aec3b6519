"""Stage 4, output: a ``ModelIR`` → a PyMC model, its readable source, its graph.

Input: the ``ModelIR`` (stage :mod:`hiermod.plan`) and, for the source, the data ``Design`` whose
schema the generated ``prepare(df)`` encodes. Output: the text of a runnable PyMC module
(``source``: ``emit_source``), the ``pm.Model`` that text builds (``module``: ``build``) and the
model's graph (``graph``).

Modules: ``source`` (IR → the module text; with ``source_model`` for the body of ``build_model``,
``source_cells`` for the reduced likelihood and ``cell_data``, ``source_data`` for ``prepare(df)``,
``source_helpers`` for the helper functions it needs, ``source_text`` for the comments),
``module`` (run the text: IR → ``pm.Model``), ``likelihoods`` (the reduced likelihoods the text
carries), ``codegen`` (the code values and their formatting) and ``graph`` (plates from dims).

Imports: :mod:`hiermod.formula`, :mod:`hiermod.data`, :mod:`hiermod.plan` and the shared leaves;
never :mod:`hiermod.inference` or :mod:`hiermod.model`.
"""
