"""Stage 1, formula: formula text → the canonical :class:`~hiermod.formula.terms.ModelFormula`.

Input: the formula text (``"y ~ x + (1 + x | g); sigma ~ (1 | g)"``). Output: a ``SyntaxTree``
(:func:`~hiermod.formula.parser.parse_syntax`, the text as written) and the fully expanded
``ModelFormula`` (:func:`~hiermod.formula.expand.expand`: terms, blocks, distributional formulas).
Nothing here looks at data.

Modules: ``syntax`` (the syntax nodes), ``parser`` (the lark parser), ``syntax_errors`` (lark's
errors → messages with a caret and a hint), ``transformer`` (lark parse tree → nodes), ``checks``
(calls, literals and the response against the allow-list), ``algebra`` (R's algebra of one sum),
``expand`` (group terms and the passes over a formula), ``terms`` (the canonical terms),
``functions`` (the allow-list of formula functions) and ``grammar/`` (the lark grammar, package
data).

Imports: only the shared leaves (:mod:`hiermod.errors`, :mod:`hiermod.warnings`,
:mod:`hiermod.datasets`); this is the first stage.
"""
