"""The naming scheme: every PyMC variable, data container and dim name comes from here.

Rules (DESIGN.md §4), with ``p`` the distributional prefix (``""`` for the mean, ``"sigma_"`` for sigma):

=======================================  =============================  ==============================
thing                                    name                           dims
=======================================  =============================  ==============================
rows                                     dim ``obs``
intercept / slopes                       ``{p}Intercept``, ``{p}b``     ``b``: ``{p}coef``
grouping column ``g``                    dim ``g``, data ``g_idx``
block over ``g1:g2`` (stem ``g1__g2``)   ``{p}sd_g1__g2``, ``{p}chol_…``, ``{p}corr_…``, ``{p}z_…``, ``{p}r_…``
  its effects (more than one)            dim ``{p}g1__g2_term``
  observed-cells layout                  dim ``g1__g2``, data ``g1__g2_idx``
  dense layout                           dims ``(g1, g2)``, data ``g1__g2_idx`` (flat cell index)
constant distributional parameter        ``sigma``, ``nu``, ``alpha``, ``phi``
response                                 the response column's name; its data ``{y}_data``
design matrices                          ``{p}X`` (population), ``{p}Z_{stem}`` (block)
=======================================  =============================  ==============================

Every name is a valid Python identifier (a column called ``log.radon`` gives ``log_radon``). No data
container is named like a dim, and no two things share a name: a clash gets a ``_`` suffix, in a fixed
order, so names are deterministic.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

__all__ = ["Namer", "identifier", "stem"]

_NOT_IDENT = re.compile(r"[^0-9A-Za-z_]+")


def identifier(text: str) -> str:
    """A valid Python identifier from any column name: ``"log.radon"`` → ``"log_radon"``.

    Runs of other characters become one ``_``; a leading digit gets a ``_`` prefix; keywords and
    empty names get a ``_`` suffix / a placeholder.
    """
    name = _NOT_IDENT.sub("_", text).strip("_") or "column"
    if name[0].isdigit():
        name = f"_{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        name = f"{name}_"
    return name


def stem(factors: tuple[str, ...]) -> str:
    """The name stem of a grouping: ``("group", "color")`` → ``"group__color"``."""
    return "__".join(identifier(f) for f in factors)


@dataclass(slots=True)
class Namer:
    """Hands out unique names. Reserve in a fixed order so results are deterministic."""

    taken: set[str] = field(default_factory=set)

    def claim(self, wanted: str) -> str:
        """``wanted`` if free, else ``wanted_``, ``wanted__``, … (the first free one)."""
        name = identifier(wanted) if not wanted.isidentifier() else wanted
        while name in self.taken:
            name = f"{name}_"
        self.taken.add(name)
        return name
