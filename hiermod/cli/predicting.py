"""``hiermod predict``: predictions for new rows from a saved fit, as a CSV table.

::

    hiermod fit "Reaction ~ Days + (Days | Subject)" --data sleepstudy.csv -o fit.nc
    hiermod predict fit.nc --data new.csv [--kind mean|response|linear|probs]
        [--new-levels error|population] [--prob 0.95] [--seed S] [--train train.csv]
        [-o out.csv] [--draws-output draws.nc] [--force]

The model is rebuilt with ``hm.Model.from_idata(fit, training data)``: the training data are the
copy ``fit -o`` stored in the fit (:mod:`hiermod.cli.training`), or ``--train FILE`` (which wins;
needed for a fit saved with ``--without-data`` or from Python). Then ``Model.predict(fit,
data=new, kind=…, new_levels=…)`` gives the draws (chain, draw, obs), and :func:`prediction_table`
one row per predicted row (per row and category for ``probs`` and the categorical family):

=========  =================================================================================
column     meaning
=========  =================================================================================
row        the row's position in ``--data`` (0-based; rows with missing values are left out)
<dim>      the category, when the prediction has one more dim (``y_category`` …)
estimate   the posterior mean of the prediction
sd         its posterior standard deviation (empty for a one-draw fit: ``--method map``)
lower_95   the lower end of the equal-tailed ``--prob`` interval (``lower_90`` for 0.9)
upper_95   its upper end
=========  =================================================================================

written to ``-o`` or stdout; ``--draws-output`` also saves every draw as netCDF. Each output is
checked before anything is read and replaces an existing file only with ``--force``. Warnings
about the training rows (rows dropped for missing values, aliased columns) are not repeated: the
fit gave them; those about the rows to predict are shown.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

import hiermod as hm
from hiermod.cli.checks import CommandError, check_output, write_atomically
from hiermod.cli.inputs import existing_file, read_data
from hiermod.cli.training import training_data
from hiermod.inference.interrupts import PARTIAL_ATTR
from hiermod.inference.intervals import summarise
from hiermod.inference.storage import stored_model
from hiermod.warnings import DataWarning

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["predict_command", "prediction_table", "read_fit"]

_SAMPLES = ("chain", "draw")


def read_fit(path: str) -> xr.DataTree:
    """The fit saved at ``path``; a :class:`CommandError` when it is not a readable netCDF file."""
    import arviz as az

    where = f"cannot read the fit {path}"
    file = existing_file(path, where, "netCDF")
    try:
        fit: xr.DataTree = az.from_netcdf(file)
    except (OSError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CommandError(f"{where}: it is not a netCDF fit ({reason})") from None
    return fit


def prediction_table(draws: xr.DataArray, prob: float) -> pd.DataFrame:
    """One row per ``obs`` (and label of any further dim) of ``draws`` (chain, draw, obs, …):
    ``row``, the further dims' labels, ``estimate``, ``sd`` and the ``prob`` interval."""
    others = [str(d) for d in draws.dims if d not in (*_SAMPLES, "obs")]
    ordered = draws.transpose(*_SAMPLES, "obs", *others)
    labels = pd.MultiIndex.from_product(
        [ordered.coords[d].to_numpy() if d in ordered.coords else np.arange(ordered.sizes[d])
         for d in ("obs", *others)],
        names=["row", *others],
    )  # fmt: skip
    values = ordered.to_numpy().reshape(*ordered.shape[:2], len(labels))
    table = summarise(values, prob)
    flat = values.reshape(-1, len(labels)).astype(float)
    table.insert(1, "sd", flat.std(axis=0, ddof=1) if flat.shape[0] > 1 else np.nan)
    return pd.concat([labels.to_frame(index=False), table], axis=1)


def _outputs(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    out = None if args.output is None else check_output(args.output, overwrite=args.force)
    draws = None
    if args.draws_output is not None:
        draws = check_output(args.draws_output, "--draws-output", overwrite=args.force)
        if out is not None and draws.resolve() == out.resolve():
            raise CommandError("-o and --draws-output name the same file")
    return out, draws


def predict_command(args: argparse.Namespace) -> int:
    """Run ``hiermod predict`` (see the module docstring); the exit status."""
    out, draws_out = _outputs(args)
    fit = read_fit(args.fit)
    stored_model(fit)  # a netCDF file that is no hiermod fit says so before the data are read
    new = read_data(args.data)
    train = read_data(args.train, "--train") if args.train is not None else training_data(fit)
    if train is None:
        raise CommandError(
            f"{args.fit} holds no training data (saved with hiermod fit --without-data, "
            "or from Python): give the data it was fitted on with --train FILE"
        )
    if int(fit["posterior"].attrs.get(PARTIAL_ATTR, 0)):
        print(
            f"hiermod predict: note: {args.fit} is a partial fit (interrupted); its draws are "
            "not all that were asked for",
            file=sys.stderr,
        )
    with warnings.catch_warnings():
        # About the training rows (dropped for missing values, aliased columns): fit said so.
        warnings.simplefilter("ignore", DataWarning)
        model = hm.Model.from_idata(fit, train)
    draws = model.predict(
        fit, data=new, kind=args.kind, new_levels=args.new_levels, random_seed=args.seed
    )
    table = prediction_table(draws, args.prob)
    if out is None:
        table.to_csv(sys.stdout, index=False)
    else:
        write_atomically(out, lambda temporary: table.to_csv(temporary, index=False))
    if draws_out is not None:
        write_atomically(draws_out, lambda temporary: draws.to_netcdf(temporary))
    return 0
