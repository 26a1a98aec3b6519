"""Reading the groups of a fit: ArviZ 1 keeps a fit as an ``xarray.DataTree`` of groups.

``fit["posterior"]`` is a tree node, typed as ``DataTree | DataArray``; the summaries, predictions
and checks want the group's variables as a read-only ``xarray.Dataset`` view (no copy).
"""

from __future__ import annotations

import xarray as xr

from hiermod.errors import ArgumentError, HiermodError

__all__ = ["read_group"]


def read_group(fit: xr.DataTree, name: str = "posterior") -> xr.Dataset:
    """The variables of the group ``name`` of ``fit`` (``posterior``, ``sample_stats``, …).

    Raises:
        ArgumentError: ``fit`` is not a DataTree (a ``TypeError``).
        HiermodError: it has no such group.
    """
    if not isinstance(fit, xr.DataTree):
        raise ArgumentError(
            f"expected a fit (an xarray.DataTree, as Model.fit returns), not {type(fit).__name__}"
        )
    if name not in fit.children:
        have = ", ".join(fit.children) or "none"
        raise HiermodError(f"this fit has no {name!r} group (it has: {have})")
    return fit[name].dataset
