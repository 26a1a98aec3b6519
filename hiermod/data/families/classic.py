"""The classic GLM families and the first survival ones: gaussian … weibull (11 entries)."""

from __future__ import annotations

from hiermod.data.families.family import Dpar, Family

__all__ = ["CLASSIC", "LINKS_P", "LINKS_POSITIVE", "SIGMA"]

SIGMA = Dpar("sigma", "the residual standard deviation", prior=None)
LINKS_P = ("logit", "probit", "cloglog")
LINKS_POSITIVE = ("log", "identity")
_REAL = "for real-valued responses use family='gaussian'"
_TIMES = "times and durations are non-negative; for real-valued responses use 'gaussian'"

CLASSIC: tuple[Family, ...] = (
    Family(
        "gaussian",
        ("identity", "log"),
        "real",
        "Normal",
        (("mu", "{mu}"), ("sigma", "{sigma}")),
        (SIGMA,),
        aliases=("normal",),
        data_scale="y",
        reductions=("suffstats",),
        brms="gaussian",
    ),
    Family(
        "student_t",
        ("identity", "log"),
        "real",
        "StudentT",
        (("nu", "{nu}"), ("mu", "{mu}"), ("sigma", "{sigma}")),
        (
            Dpar("sigma", "the scale of the Student-t", prior=None),
            Dpar("nu", "the Student-t degrees of freedom"),  # gamma(2, 0.1) as brms
        ),
        aliases=("studentt", "t", "student"),
        data_scale="y",
        brms="student",
    ),
    Family(
        "bernoulli",
        LINKS_P,
        "binary",
        "Bernoulli",
        (("p", "{mu}"),),
        aliases=("logistic",),
        logit_param="logit_p",
        reductions=("collapse",),
        brms="bernoulli",
        hint="for counts of successes out of n trials use family='binomial' with y | trials(n) ~ …",
    ),
    Family(
        "binomial",
        LINKS_P,
        "bounded_count",
        "Binomial",
        (("n", "{trials}"), ("p", "{mu}")),
        logit_param="logit_p",
        reductions=("collapse",),
        brms="binomial",
        hint="write the response as successes | trials(n) ~ …",
    ),
    Family(
        "poisson",
        LINKS_POSITIVE,
        "count",
        "Poisson",
        (("mu", "{mu}"),),
        reductions=("collapse",),
        brms="poisson",
        hint=_REAL,
    ),
    Family(
        "negativebinomial",
        LINKS_POSITIVE,
        "count",
        "NegativeBinomial",
        (("mu", "{mu}"), ("alpha", "{alpha}")),
        (Dpar("alpha", "the NegativeBinomial overdispersion"),),
        aliases=("negbinomial", "negative_binomial", "nb"),
        reductions=("merge",),
        brms="negbinomial (shape)",
        hint=_REAL,
    ),
    Family(
        "gamma",
        LINKS_POSITIVE,
        "positive",
        "Gamma",
        (("alpha", "{alpha}"), ("beta", "{alpha} / {mu}")),
        (Dpar("alpha", "the Gamma shape"),),
        brms="Gamma (shape)",
        hint="for data with zeros use family='hurdle_gamma'",
    ),
    Family(
        "lognormal",
        ("identity",),
        "positive",
        "LogNormal",
        (("mu", "{mu}"), ("sigma", "{sigma}")),
        (SIGMA,),
        data_scale="log y",
        brms="lognormal",
        hint="for data with zeros use family='hurdle_lognormal'",
    ),
    Family(
        "beta",
        LINKS_P,
        "unit",
        "Beta",
        (("alpha", "{mu} * {phi}"), ("beta", "(1.0 - {mu}) * {phi}")),
        (Dpar("phi", "the Beta precision"),),
        brms="Beta",
        hint="for data with exact 0s and 1s use family='zero_inflated_beta' or "
        "'zero_one_inflated_beta', or squeeze them into (0, 1), e.g. (y * (n - 1) + 0.5) / n",
    ),
    # brms: exponential_lpdf(y | inv(mu)); the mean is mu.
    Family(
        "exponential",
        LINKS_POSITIVE,
        "nonnegative",
        "Exponential",
        (("scale", "{mu}"),),
        brms="exponential",
        hint=_TIMES,
    ),
    # brms: weibull_lpdf(y | shape, mu / tgamma(1 + 1 / shape)), so that the mean is mu;
    # brms's default prior of the shape is gamma(0.01, 0.01).
    Family(
        "weibull",
        LINKS_POSITIVE,
        "nonnegative",
        "Weibull",
        (("alpha", "{shape}"), ("beta", "{mu} / pt.gamma(1.0 + 1.0 / {shape})")),
        (Dpar("shape", "the Weibull shape", prior="gamma(0.01, 0.01)"),),
        brms="weibull",
        hint=_TIMES,
    ),
)
