"""Time ``hm.parse`` on a 200-term formula (150 main effects, 45 interactions, 5 group blocks) and
on a formula of 2,000 group terms, ``y ~ x + (1 | g1) + … + (1 | g2000)``.

Run with ``python benchmarks/parse_speed.py``; prints the medians over repeats (targets: < 50 ms for
the 200 terms, < 1 s for the 2,000 group terms: expansion must stay linear in the number of terms).
The first parse also builds the LALR tables; it is timed separately as the cold start.
"""

from __future__ import annotations

import argparse
import statistics
import time

import hiermod as hm


def make_formula(n_main: int = 150, n_interactions: int = 45) -> str:
    """``y ~ x1 + … + x150 + x1:x2 + … + (1 + x1 | g) + …``: 200 terms after expansion."""
    main = [f"x{i}" for i in range(1, n_main + 1)]
    interactions = [f"x{i}:x{i + 1}" for i in range(1, n_interactions + 1)]
    groups = ["(1 + x1 | g)", "(x2 || h)", "(1 | g:h)", "(1 | site/plot)"]
    return "y ~ " + " + ".join([*main, *interactions, *groups])


def make_group_formula(n_groups: int = 2000) -> str:
    """``y ~ x + (1 | g1) + … + (1 | g2000)``: one population term and 2,000 group blocks."""
    return "y ~ x + " + " + ".join(f"(1 | g{i})" for i in range(1, n_groups + 1))


def _median_seconds(text: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        hm.parse(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--group-repeats", type=int, default=5)
    args = parser.parse_args(argv)

    text = make_formula()
    start = time.perf_counter()
    formula = hm.parse(text)  # cold: builds the parser once per process
    cold = time.perf_counter() - start

    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        hm.parse(text)
        times.append(time.perf_counter() - start)

    terms = len(formula.main.terms)
    blocks = len(formula.main.blocks)
    print(f"parse: {len(text):,} characters, {terms} population terms + {blocks} group blocks")
    print(f"cold start {cold * 1e3:.1f} ms (builds the LALR parser)")
    print(
        f"median {statistics.median(times) * 1e3:.1f} ms, best {min(times) * 1e3:.1f} ms "
        f"over {args.repeats} repeats (target < 50 ms)"
    )

    groups = make_group_formula()
    n_blocks = len(hm.parse(groups).main.blocks)
    seconds = _median_seconds(groups, args.group_repeats)
    print(
        f"parse: {len(groups):,} characters, {n_blocks} group blocks: median {seconds:.3f} s "
        f"over {args.group_repeats} repeats (target < 1 s)"
    )


if __name__ == "__main__":
    main()
