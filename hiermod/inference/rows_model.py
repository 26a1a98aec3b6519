"""The row-wise PyMC model predictions are derived from — an interim bridge to the build.

:mod:`hiermod.inference.predict` asks for the row-wise model of a plan whose predictors are all
stored (``PredictorIR.store``): each one a ``pm.Deterministic`` over ``obs`` on its natural scale
(the inverse link of its linear predictor: ``mu``, ``sigma = exp(eta)``), named by
``PredictorIR.name``. :func:`hiermod.output.build.build` does not honour ``store`` yet. Until it
does, :func:`rows_model` falls back to build's row-wise branch put together from build's own
pieces — the same variables, in the same order — plus those deterministics. Once build's model
has them, :func:`rows_model` is ``build(ir, rows=True)``, the fallback is never taken, and this
module can go (``hiermod.model`` then passes ``build(ir, rows=True)`` as the hook).
"""

from __future__ import annotations

import pymc as pm

from hiermod.output import build as pieces
from hiermod.plan.ir import ConstantIR, ModelIR

__all__ = ["rows_model"]


def rows_model(ir: ModelIR) -> pm.Model:
    """The row-wise PyMC model of ``ir``, with every ``store=True`` predictor a deterministic."""
    model = pieces.build(ir, rows=True)
    if all(p.name in model.named_vars for p in ir.predictors if p.store):
        return model
    lik = ir.likelihood
    with pm.Model(coords=ir.coords) as model:
        data = {
            spec.name: pm.Data(spec.name, ir.data_values[spec.name], dims=spec.dims)
            for spec in ir.data
            if spec.name != lik.observed
        }
        dpars = {}
        for predictor in ir.predictors:
            eta = pieces._predictor(predictor, data)
            value = pieces.inverse_link(predictor.link, eta)
            dpars[predictor.dpar] = eta if predictor.dpar == "mu" else value
            if predictor.store:
                pm.Deterministic(predictor.name, value, dims="obs")
        for name, source in lik.dpars:
            if isinstance(source, ConstantIR):
                dpars[name] = pieces._random_variable(source.param)
            elif isinstance(source, str):
                dpars[name] = data[source]
        pieces._likelihood(lik, dpars, data, ir.data_values[lik.observed])
    return model
