# brms reference fits of a multivariate model with residual correlation (issue 15): hiermod's
# mvbind(y1, y2) ~ x + z + (1 | g) against brms's bf(mvbind(y1, y2) ~ x + z + (1 | g)) + set_rescor(TRUE),
# and the same with (1 | p | g): the responses' group intercepts in one correlation.
#
#   Rscript benchmarks/reference/mvbind_brms.R            # fit unless the outputs exist
#   Rscript benchmarks/reference/mvbind_brms.R --force    # refit
# Needs Debian's r-cran-brms (2.18) and r-cran-rstan; never run in CI (Stan compiles for 1-3 min).
#
# Reads benchmarks/reference/mvbind_brms/data.csv (500 rows simulated by tests/test_multivariate.py's
# _data(n=500, seed=11, rho=0.5): two Gaussian responses with residual correlation 0.5) and writes
# two fits, with and without an ID correlating the responses' group intercepts:
#   summary.csv, summary_shared_id.csv    every scalar parameter: name, mean, sd, q5, q95, rhat, ess_bulk
#   model.stan, model_shared_id.stan      stancode(fit)
#   meta.json                             per fit: formula, settings, run time, divergences, versions
# brms's default priors (flat b, student_t Intercept/sd/sigma, lkj(1) on rescor).

suppressPackageStartupMessages({
  library(brms)
  library(rstan)
  library(posterior)
  library(jsonlite)
})

# Debian's r-cran-bh has no headers (Boost is in /usr/include): rstan needs a directory holding only a
# link "boost" to them (as benchmarks/reference/mcycle_brms.R).
if (dir.exists("/usr/include/boost")) {
  boost <- file.path(tempdir(), "boost-include")
  dir.create(boost, showWarnings = FALSE)
  if (!file.exists(file.path(boost, "boost"))) file.symlink("/usr/include/boost", file.path(boost, "boost"))
  rstan::rstan_options(boost_lib = boost)
}

here <- local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(file) == 1) dirname(normalizePath(file)) else normalizePath("benchmarks/reference")
})
OUT <- file.path(here, "mvbind_brms")
force <- "--force" %in% commandArgs(trailingOnly = TRUE)
CACHE <- Sys.getenv("HIERMOD_BRMS_CACHE", file.path(dirname(dirname(dirname(here))), "brms-cache"))
dir.create(CACHE, showWarnings = FALSE)

d <- read.csv(file.path(OUT, "data.csv"))
d$g <- factor(d$g)
FITS <- list(
  # name = list(brms formula, its text, the output file's suffix)
  rescor = list(bf(mvbind(y1, y2) ~ x + z + (1 | g)) + set_rescor(TRUE),
                "bf(mvbind(y1, y2) ~ x + z + (1 | g)) + set_rescor(TRUE)", ""),
  # the responses' group intercepts in one correlation (brms's ID across responses)
  shared_id = list(bf(mvbind(y1, y2) ~ x + z + (1 | p | g)) + set_rescor(TRUE),
                   "bf(mvbind(y1, y2) ~ x + z + (1 | p | g)) + set_rescor(TRUE)", "_shared_id")
)
meta_file <- file.path(OUT, "meta.json")
meta <- if (file.exists(meta_file)) fromJSON(meta_file, simplifyVector = FALSE) else list()
if (!is.null(meta$formula)) meta <- list(rescor = meta)  # the first version's single-fit meta
for (name in names(FITS)) {
  spec <- FITS[[name]]
  out_file <- file.path(OUT, paste0("summary", spec[[3]], ".csv"))
  if (!force && file.exists(out_file)) next
  started <- Sys.time()
  fit <- brm(spec[[1]], data = d, chains = 2, iter = 2000, warmup = 1000, seed = 3, refresh = 0,
             cores = 1, file = file.path(CACHE, paste0("mvbind_", name)),  # kept: reruns write only
             file_refit = if (force) "always" else "never")
  seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
  draws <- as_draws_df(fit)
  keep <- grep("^(b_|sd_|sigma_|rescor__|cor_)", variables(draws), value = TRUE)
  s <- summarise_draws(subset_draws(draws, variable = keep), "mean", "sd",
                       ~quantile(.x, probs = c(0.05, 0.95)), "rhat", "ess_bulk")
  num <- function(v) as.numeric(unclass(v))  # posterior's columns are pillar_num vectors
  s <- data.frame(name = s$variable, mean = num(s$mean), sd = num(s$sd), q5 = num(s[["5%"]]),
                  q95 = num(s[["95%"]]), rhat = num(s$rhat), ess_bulk = num(s$ess_bulk))
  write.csv(s, out_file, row.names = FALSE)
  writeLines(stancode(fit), file.path(OUT, paste0("model", spec[[3]], ".stan")))
  np <- nuts_params(fit)
  meta[[name]] <- list(formula = spec[[2]], chains = 2, iter = 2000, warmup = 1000, seed = 3,
                       seconds = seconds, divergences = sum(np$Value[np$Parameter == "divergent__"]),
                       brms = as.character(packageVersion("brms")), R = R.version.string)
  writeLines(toJSON(meta, auto_unbox = TRUE, pretty = TRUE), meta_file)
}
