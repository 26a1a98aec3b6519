# brms reference fits of smooth and Gaussian-process terms on mcycle (issue 15's acceptance fixtures).
#
#   Rscript benchmarks/reference/mcycle_brms.R            # every fit whose outputs are missing
#   Rscript benchmarks/reference/mcycle_brms.R --force    # refit
# Needs Debian's r-cran-brms (2.18) and r-cran-rstan; never run in CI (each model compiles Stan for
# 1-3 minutes). Reads ../shared/data/mcycle.csv (MASS's mcycle) or $HIERMOD_SHARED_DATA.
#
# Writes into benchmarks/reference/mcycle_brms/, per fit:
#   <fit>_curve.csv    the expected accel (posterior_epred) at 50 equally spaced times over the data's
#                      range: times, mean, q05, q95 (the 90% band), sd; only for a usable fit (its
#                      chains agree, R-hat <= 1.05): meta.json says why a fit is not
#   <fit>_summary.csv  every scalar parameter: name, mean, sd, q5, q95, rhat, ess_bulk
#   <fit>.stan         stancode(fit)
# and meta.json with each fit's formula, settings, run time and the R / brms / rstan versions.
# Fits are cached as .rds in $HIERMOD_BRMS_CACHE (default ../brms-cache, outside the repository).
#
# The fits keep brms's default priors (the comparison is of what a brms user gets by default).

suppressPackageStartupMessages({
  library(brms)
  library(rstan)
  library(posterior)
  library(jsonlite)
})

CHAINS <- 4
WARMUP <- 1000
DRAWS <- 1000
SEED <- 1
CORES <- 2

here <- local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(file) == 1) dirname(normalizePath(file)) else normalizePath("benchmarks/reference")
})
ROOT <- dirname(dirname(here))
OUT <- file.path(here, "mcycle_brms")
DATA <- Sys.getenv("HIERMOD_SHARED_DATA", file.path(dirname(ROOT), "shared", "data"))
CACHE <- Sys.getenv("HIERMOD_BRMS_CACHE", file.path(dirname(ROOT), "brms-cache"))
dir.create(OUT, showWarnings = FALSE)
dir.create(CACHE, showWarnings = FALSE)

# Debian's r-cran-bh has no headers (Boost is in /usr/include): rstan needs a directory holding only a
# link "boost" to them.
if (dir.exists("/usr/include/boost")) {
  boost <- file.path(tempdir(), "boost-include")
  dir.create(boost, showWarnings = FALSE)
  if (!file.exists(file.path(boost, "boost"))) file.symlink("/usr/include/boost", file.path(boost, "boost"))
  rstan::rstan_options(boost_lib = boost)
}

mcycle <- read.csv(file.path(DATA, "mcycle.csv"))
grid <- data.frame(times = seq(min(mcycle$times), max(mcycle$times), length.out = 50))

FITS <- list(
  smooth_sigma = list(
    formula = bf(accel ~ s(times), sigma ~ s(times)),
    text = "accel ~ s(times); sigma ~ s(times)"
  ),
  gp = list(
    # brms's approximate GP (Hilbert space, k basis functions, boundary factor c), as hiermod's default
    formula = bf(accel ~ gp(times, k = 20, c = 5 / 4)),
    text = "accel ~ gp(times, k = 20, c = 5/4)"
  ),
  gp_exact = list(
    # brms's exact GP (its default without k): hiermod's gp(times) on mcycle's 94 distinct times
    formula = bf(accel ~ gp(times)),
    text = "accel ~ gp(times)"
  )
)

args <- commandArgs(trailingOnly = TRUE)
force <- "--force" %in% args
meta_file <- file.path(OUT, "meta.json")
meta <- if (file.exists(meta_file)) fromJSON(meta_file, simplifyVector = FALSE) else list()

for (name in names(FITS)) {
  spec <- FITS[[name]]
  curve_file <- file.path(OUT, paste0(name, "_curve.csv"))
  done <- file.exists(file.path(OUT, paste0(name, "_summary.csv")))  # also an unusable fit's
  if (done && !force) next
  cat("fitting", name, "\n")
  started <- Sys.time()
  fit <- brm(spec$formula, data = mcycle, chains = CHAINS, iter = WARMUP + DRAWS, warmup = WARMUP,
             seed = SEED, cores = CORES, refresh = 0, control = list(adapt_delta = 0.95),
             file = file.path(CACHE, name))  # the fit is kept: rerunning rewrites the outputs only
  seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
  # A fit whose chains disagree is no reference: its summary and diagnostics are written (so the
  # failure is on record, e.g. brms's exact GP on mcycle), its curve is not.
  epred <- tryCatch(posterior_epred(fit, newdata = grid), error = function(e) conditionMessage(e))
  if (is.character(epred)) {
    problem <- epred
  } else {
    problem <- NULL
    curve <- data.frame(
      times = grid$times,
      mean = colMeans(epred),
      q05 = apply(epred, 2, quantile, 0.05),
      q95 = apply(epred, 2, quantile, 0.95),
      sd = apply(epred, 2, sd)
    )
  }
  draws <- as_draws_df(fit)
  keep <- grep("^(b_|bs_|sds_|sdgp_|lscale_|sigma|Intercept)", variables(draws), value = TRUE)
  s <- summarise_draws(subset_draws(draws, variable = keep), mean, sd,
                       ~quantile(.x, probs = c(0.05, 0.95)), rhat, ess_bulk)
  num <- function(v) as.numeric(unclass(v))  # posterior's columns are pillar_num vectors
  summary <- data.frame(parameter = s$variable, mean = num(s$mean), sd = num(s$sd), q5 = num(s[["5%"]]),
                        q95 = num(s[["95%"]]), rhat = num(s$rhat), ess_bulk = num(s$ess_bulk))
  write.csv(summary, file.path(OUT, paste0(name, "_summary.csv")), row.names = FALSE)
  writeLines(as.character(stancode(fit)), file.path(OUT, paste0(name, ".stan")))
  np <- nuts_params(fit)
  if (is.null(problem) && max(summary$rhat, na.rm = TRUE) > 1.05) {
    problem <- sprintf("largest R-hat %.3g: the chains disagree", max(summary$rhat, na.rm = TRUE))
  }
  if (is.null(problem)) write.csv(curve, curve_file, row.names = FALSE)
  elapsed <- rstan::get_elapsed_time(fit$fit)  # per chain, also right for a cached fit
  meta[[name]] <- list(
    formula = spec$text, data = "mcycle.csv (133 rows)", chains = CHAINS, warmup = WARMUP,
    draws = DRAWS, seed = SEED, adapt_delta = 0.95, seconds = round(seconds, 1),
    chain_seconds = round(rowSums(elapsed), 1),
    usable = is.null(problem), problem = if (is.null(problem)) "" else problem,
    divergences = sum(np$Value[np$Parameter == "divergent__"]),
    max_treedepth_share = mean(np$Value[np$Parameter == "treedepth__"] >= 10),
    priors = as.data.frame(prior_summary(fit))[, c("prior", "class", "coef", "dpar")],
    versions = list(R = R.version.string, brms = as.character(packageVersion("brms")),
                    rstan = as.character(packageVersion("rstan")))
  )
  write(toJSON(meta, auto_unbox = TRUE, pretty = TRUE, digits = NA), meta_file)
}
