"""The model options of ``hiermod fit``, ``source`` (``compile``): ``--family``, ``--link``,
``--prior``, ``--layout``, ``--centered``, read into ``hm.Model``'s keyword arguments.

::

    hiermod fit "y ~ x + (x | g)" --data d.csv --prior b=normal(0,1) --prior sd=half_normal(2)
        # priors={"b": "normal(0,1)", "sd": "half_normal(2)"}
    hiermod fit "y ~ (1 | g:h)" --data d.csv --layout dense          # layout="dense"
    hiermod fit "y ~ (1 | g) + (1 | g:h)" --data d.csv --centered g=true --centered g:h=false
        # centered={"g": True, "g:h": False}

* ``--family`` takes the names of :data:`hiermod.data.families.FAMILIES` (``--help`` lists them)
  and their aliases (``normal``, ``negbinomial``), read as the family's name; ``--link`` one of
  :data:`~hiermod.data.families.LINKS` — whether the family allows it is the model's check
  (:class:`~hiermod.errors.FamilyError`, exit status 2).
* ``--prior KEY=PRIOR`` (repeatable): KEY a parameter name or class as in ``priors=``
  (:mod:`hiermod.plan.priors`), PRIOR its distribution. The prior text is parsed here, by hiermod's
  grammar, so ``--prior b=normal(0,`` is refused by the parser before the data are read; whether
  KEY names a parameter is the model's check (the closest name suggested).
* ``--layout VALUE`` / ``--centered VALUE``: one value for every grouping, or ``GROUPING=VALUE``
  (repeatable, the grouping as in the formula: ``g:h``) for some; groupings not named keep
  ``auto``. Layouts: ``auto``, ``dense``, ``observed``; centring: ``auto``, ``true``, ``false``
  (also ``yes``/``no``, ``1``/``0``). A grouping the model does not have is the model's
  :class:`~hiermod.errors.OptionError` with the closest one.

Every malformed value is an argparse error naming the option (``argument --prior: expected
KEY=PRIOR …``, exit status 2); a KEY or GROUPING given twice, or a plain ``--layout`` mixed with
``GROUPING=`` ones, is a :class:`~hiermod.cli.checks.CommandError` (exit status 2) from
:func:`model_options`, raised before the data are read.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, overload

from hiermod.cli.checks import CommandError
from hiermod.errors import HiermodError
from hiermod.plan.priors import parse_prior

__all__ = [
    "CENTRINGS",
    "FAMILY_NAMES",
    "LAYOUTS",
    "LINK_NAMES",
    "LazyNames",
    "family_arguments",
    "family_name",
    "grouped_choice",
    "model_options",
    "prior_pair",
    "shape_arguments",
]

LAYOUTS: dict[str, object] = {"auto": "auto", "dense": "dense", "observed": "observed"}
CENTRINGS: dict[str, object] = {"auto": "auto", "true": True, "false": False}
_CENTRING_SPELLINGS = {"yes": "true", "1": "true", "no": "false", "0": "false"}


class LazyNames(Sequence[str]):
    """Names computed when first used: argparse ``choices`` from :mod:`hiermod.data.families`,
    which imports PyTensor (about a second that ``hiermod parse`` and ``--version`` need not pay;
    only ``--help`` and checking a value read them)."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load
        self._names: tuple[str, ...] | None = None

    def _get(self) -> tuple[str, ...]:
        if self._names is None:
            self._names = tuple(self._load())
        return self._names

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._get()[index]

    def __len__(self) -> int:
        return len(self._get())


def _families() -> Sequence[str]:
    from hiermod.data.families import FAMILIES

    return list(FAMILIES)


def _links() -> Sequence[str]:
    from hiermod.data.families import LINKS

    return LINKS


FAMILY_NAMES = LazyNames(_families)
LINK_NAMES = LazyNames(_links)


def family_name(text: str) -> str:
    """An argparse ``type``: a family's name or alias as the family's name (``normal`` ->
    ``gaussian``); an unknown name names the closest family."""
    from hiermod.data.families import get_family

    try:
        return get_family(text).name
    except HiermodError as error:
        raise argparse.ArgumentTypeError(str(error).replace("\n", "; ")) from None


def prior_pair(text: str) -> tuple[str, str]:
    """An argparse ``type``: ``KEY=PRIOR`` as ``(KEY, PRIOR)``, the prior parsed (never
    evaluated) so a malformed one stops the command at once. ``"b=normal(0, 1)"`` gives
    ``("b", "normal(0, 1)")``; ``"normal(0, 1)"`` (no key) is refused."""
    key, equals, prior = text.partition("=")
    key = key.strip()
    # "normal(mu=0, sigma=1)" without a key splits at a keyword's '=': a key has no '('.
    if not equals or not key or "(" in key:
        raise argparse.ArgumentTypeError(
            f"expected KEY=PRIOR, a parameter name or class and its prior, e.g. "
            f"b=normal(0,2.5) or sd_g=half_normal(1), not {text!r}"
        )
    try:
        parse_prior(prior)
    except HiermodError as error:
        message = str(error).replace("\n", "\n  ")
        raise argparse.ArgumentTypeError(f"the prior of {key!r} in {text!r}: {message}") from None
    return key, prior.strip()


def grouped_choice(
    option: str, choices: dict[str, object], spellings: dict[str, str] | None = None
) -> Callable[[str], tuple[str | None, object]]:
    """An argparse ``type``: ``VALUE`` as ``(None, value)`` or ``GROUPING=VALUE`` as
    ``(GROUPING, value)``, VALUE one of ``choices`` or ``spellings`` of them (case-insensitive).
    For ``--layout``: ``"g:h=dense"`` gives ``("g:h", "dense")``, ``"dense"`` ``(None, "dense")``."""
    example = list(choices)[1]

    def parse(text: str) -> tuple[str | None, object]:
        grouping, equals, value = text.rpartition("=")
        word = value.strip().lower()
        word = (spellings or {}).get(word, word)
        if word not in choices or (equals and not grouping.strip()):
            raise argparse.ArgumentTypeError(
                f"expected VALUE or GROUPING=VALUE, VALUE one of {', '.join(choices)} "
                f"(e.g. {option} {example} or {option} g={example}), not {text!r}"
            )
        return (grouping.strip() if equals else None), choices[word]

    parse.__name__ = f"{option} value"
    return parse


def family_arguments(parser: argparse.ArgumentParser) -> None:
    """``--family`` (its choices listed by ``--help``) and ``--link``."""
    parser.add_argument(
        "--family",
        default="gaussian",
        type=family_name,
        choices=FAMILY_NAMES,
        metavar="FAMILY",
        help="response family (default gaussian; aliases such as normal are accepted): %(choices)s",
    )
    parser.add_argument(
        "--link",
        default=None,
        choices=LINK_NAMES,
        metavar="LINK",
        help="link of the mean (default: the family's): %(choices)s; the family must allow it",
    )


def shape_arguments(parser: argparse.ArgumentParser) -> None:
    """``--prior``, ``--layout`` and ``--centered``."""
    parser.add_argument(
        "--prior",
        action="append",
        default=[],
        type=prior_pair,
        metavar="KEY=PRIOR",
        help="a prior for a parameter or class, e.g. b=normal(0,2.5), sd=half_normal(1), "
        "'b[x]=student_t(3,0,1)' (repeatable; see docs/priors.md)",
    )
    parser.add_argument(
        "--layout",
        action="append",
        default=[],
        type=grouped_choice("--layout", LAYOUTS),
        metavar="[GROUPING=]VALUE",
        help="layout of grouping interactions: auto, dense or observed, for all, or per "
        "grouping as g:h=dense (repeatable)",
    )
    parser.add_argument(
        "--centered",
        action="append",
        default=[],
        type=grouped_choice("--centered", CENTRINGS, _CENTRING_SPELLINGS),
        metavar="[GROUPING=]VALUE",
        help="centred group effects: auto, true or false, for all, or per grouping as g=true "
        "(repeatable)",
    )


def _by_grouping(option: str, given: Sequence[tuple[str | None, object]]) -> object:
    """The ``layout=`` / ``centered=`` value of the ``(grouping, value)`` pairs given."""
    if not given:
        return "auto"
    plain = [value for grouping, value in given if grouping is None]
    if plain and len(given) > 1:
        raise CommandError(
            f"{option} takes one VALUE for every grouping or GROUPING=VALUE pairs, not both "
            f"or one VALUE twice (groupings not named are auto)"
        )
    if plain:
        return plain[0]
    chosen: dict[str, object] = {}
    for grouping, value in given:
        assert grouping is not None
        if grouping in chosen:
            raise CommandError(f"{option} names the grouping {grouping!r} twice")
        chosen[grouping] = value
    return chosen


def model_options(args: argparse.Namespace) -> dict[str, Any]:
    """``hm.Model``'s ``priors=``, ``layout=`` and ``centered=`` from ``args`` (a command without
    these options, such as ``graph``, gets the defaults)."""
    priors: dict[str, str] = {}
    for key, prior in getattr(args, "prior", []):
        if key in priors:
            raise CommandError(f"--prior gives {key!r} twice ({priors[key]} and {prior})")
        priors[key] = prior
    return {
        "priors": priors or None,
        "layout": _by_grouping("--layout", getattr(args, "layout", [])),
        "centered": _by_grouping("--centered", getattr(args, "centered", [])),
    }
