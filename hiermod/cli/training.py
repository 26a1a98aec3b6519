"""The training data inside ``fit.nc``, so that ``hiermod predict fit.nc`` needs no other file.

``hiermod fit -o fit.nc`` adds the group :data:`GROUP` (``hiermod_training_data``) to the fit: the
data columns the model reads (the response, predictors, grouping factors, ``trials()``… — every
column its formulas name, in the data's order), every row (rows the model dropped for missing
values too: the fit's ``obs`` labels are row positions, and ``hm.Model.from_idata`` must find the
same rows). ``--without-data`` leaves it out (the data may be large, or private); ``predict`` then
needs ``--train``.

Each column is one variable over the dim ``row``, readable by any netCDF tool:

* numbers, booleans and dates as they are (missing numbers are NaN), with the pandas dtype in the
  attribute ``hiermod_dtype`` (``"int64"``, ``"Int64"``, ``"float64"``);
* strings and categoricals as integer codes (-1 = missing) into a coordinate ``<column>__levels``
  (``hiermod_levels`` names it), with ``hiermod_dtype`` ``"str"``, ``"object"`` or ``"category"``
  and, for a categorical, ``hiermod_ordered`` (0 or 1): so an ordered factor of a Parquet file, the
  order of an ordinal response, comes back in its order. E.g. ``g = ["b", "a", NaN]`` is stored as
  ``g = [1, 0, -1]`` with ``g__levels = ["a", "b"]``.

:func:`training_group` builds the group before sampling (a column netCDF cannot hold is an error
then, not after the fit); :func:`training_data` reads it back as the data frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from hiermod.cli.checks import CommandError
from hiermod.data.columns import used_columns
from hiermod.data.names import named_columns

if TYPE_CHECKING:
    from hiermod.model import Model

__all__ = ["GROUP", "training_data", "training_group"]

GROUP = "hiermod_training_data"
_DIM = "row"
_CODED = ("str", "object", "category")


def _columns(model: Model, data: pd.DataFrame) -> list[str]:
    """The columns of ``data`` the model's formulas name, in the data's order."""
    names = set(used_columns(model.formula, data.columns, True)) | set(named_columns(model.formula))
    return [column for column in data.columns if str(column) in names]


def _coded(name: str, column: pd.Series) -> dict[str, xr.Variable]:
    """A string or categorical column as codes into a levels coordinate."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        kind, ordered = "category", int(bool(column.cat.ordered))
        codes, levels = column.cat.codes.to_numpy(), column.cat.categories
    else:
        kind, ordered = ("str" if pd.api.types.is_string_dtype(column.dtype) else "object"), 0
        codes, levels = pd.factorize(column, sort=True)
    values = np.asarray(levels.to_numpy(dtype=object))
    if all(isinstance(v, str) for v in values):
        values = values.astype(str)
    elif not all(isinstance(v, int | float | np.number) for v in values):
        raise CommandError(
            f"cannot store the training data in the fit: column {name!r} mixes strings and "
            "numbers; pass --without-data (predict then takes --train FILE)"
        )
    levels_name = f"{name}__levels"
    attrs: dict[str, object] = {"hiermod_dtype": kind, "hiermod_levels": levels_name}
    if kind == "category":
        attrs["hiermod_ordered"] = ordered
    return {
        name: xr.Variable(_DIM, np.asarray(codes, dtype=np.int32), attrs),
        levels_name: xr.Variable(levels_name, values),
    }


def _plain(column: pd.Series) -> xr.Variable:
    dtype = column.dtype
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and column.isna().any():
        values = column.to_numpy(dtype=float, na_value=np.nan)  # Int64 / boolean with NA
    else:
        values = column.to_numpy()
    return xr.Variable(_DIM, values, {"hiermod_dtype": str(dtype)})


def training_group(model: Model, data: pd.DataFrame) -> xr.DataTree:
    """The group :data:`GROUP` of the columns of ``data`` that ``model`` reads (see the module
    docstring); a :class:`~hiermod.cli.checks.CommandError` when a column cannot be stored."""
    variables: dict[str, xr.Variable] = {}
    for name in _columns(model, data):
        column = data[name].reset_index(drop=True)
        key = str(name)
        if "/" in key:
            raise CommandError(
                f"cannot store the training data in the fit: netCDF names cannot hold '/' "
                f"(column {key!r}); pass --without-data (predict then takes --train FILE)"
            )
        numeric = pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(
            column.dtype
        )
        if isinstance(column.dtype, pd.CategoricalDtype) or not (
            numeric or pd.api.types.is_datetime64_any_dtype(column.dtype)
        ):
            variables |= _coded(key, column)
        else:
            variables[key] = _plain(column)
    dataset = xr.Dataset(variables, attrs={"hiermod_rows": len(data)})
    return xr.DataTree(dataset, name=GROUP)


def training_data(fit: xr.DataTree) -> pd.DataFrame | None:
    """The training data stored in ``fit`` by :func:`training_group`, or None when it has none."""
    if GROUP not in fit.children:
        return None
    dataset = fit[GROUP].to_dataset()
    columns: dict[str, pd.Series] = {}
    for name, variable in dataset.data_vars.items():
        attrs = variable.attrs
        kind = str(attrs.get("hiermod_dtype", ""))
        values = variable.to_numpy()
        if kind in _CODED and "hiermod_levels" in attrs:
            levels = dataset[str(attrs["hiermod_levels"])].to_numpy()
            ordered = bool(int(attrs.get("hiermod_ordered", 0)))
            categorical = pd.Categorical.from_codes(
                values.astype(np.int64).tolist(), pd.Index(levels), ordered=ordered
            )
            column = pd.Series(categorical)
            columns[str(name)] = (
                column if kind == "category" else column.astype(pd.api.types.pandas_dtype(kind))
            )
        else:
            column = pd.Series(values)
            columns[str(name)] = column.astype(pd.api.types.pandas_dtype(kind)) if kind else column
    return pd.DataFrame(columns)
