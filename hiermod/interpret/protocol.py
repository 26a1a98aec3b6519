"""What the interpretation stage reads from ``hm.Model``, as a Protocol: the stage never imports
:mod:`hiermod.model` (a later module), so the mixins type ``self`` with :class:`FittedModel`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import pandas as pd
import pymc as pm
import xarray as xr

from hiermod.data.design import Design
from hiermod.plan.ir import ModelIR

__all__ = ["FittedModel"]


class FittedModel(Protocol):
    """The parts of ``hm.Model`` that conditional effects, hypotheses and model checks use."""

    @property
    def ir(self) -> ModelIR: ...
    @property
    def design(self) -> Design: ...
    @property
    def data(self) -> pd.DataFrame | None: ...
    @property
    def streamed(self) -> bool: ...
    @property
    def pymc(self) -> pm.Model: ...
    def predict(
        self,
        idata: xr.DataTree,
        data: pd.DataFrame | None = None,
        kind: str = "mean",
        new_levels: str = "error",
        random_seed: int | None = None,
        *,
        groups: bool | str | Sequence[str] = True,
        add_to: xr.DataTree | None = None,
    ) -> xr.DataArray: ...
