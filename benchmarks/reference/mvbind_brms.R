# brms reference fit of a multivariate model with residual correlation (issue 15): hiermod's
# mvbind(y1, y2) ~ x + z + (1 | g) against brms's bf(mvbind(y1, y2) ~ x + z + (1 | g)) + set_rescor(TRUE).
#
#   Rscript benchmarks/reference/mvbind_brms.R            # fit unless the outputs exist
#   Rscript benchmarks/reference/mvbind_brms.R --force    # refit
# Needs Debian's r-cran-brms (2.18) and r-cran-rstan; never run in CI (Stan compiles for 1-3 min).
#
# Reads benchmarks/reference/mvbind_brms/data.csv (500 rows simulated by tests/test_multivariate.py's
# _data(n=500, seed=11, rho=0.5): two Gaussian responses with residual correlation 0.5) and writes
# (not run yet: its first run stopped at rstan's "Boost not found"; the boost-include link below is
# the fix the other reference scripts use)
#   summary.csv    every scalar parameter: name, mean, sd, q5, q95, rhat, ess_bulk
#   model.stan     stancode(fit)
#   meta.json      formula, settings, run time, versions
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
if (!force && file.exists(file.path(OUT, "summary.csv"))) quit(save = "no")

d <- read.csv(file.path(OUT, "data.csv"))
d$g <- factor(d$g)
formula <- bf(mvbind(y1, y2) ~ x + z + (1 | g)) + set_rescor(TRUE)
started <- Sys.time()
fit <- brm(formula, data = d, chains = 2, iter = 2000, warmup = 1000, seed = 3, refresh = 0,
           cores = 1)
seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
draws <- as_draws_df(fit)
keep <- grep("^(b_|sd_|sigma_|rescor__|cor_)", variables(draws), value = TRUE)
s <- summarise_draws(subset_draws(draws, variable = keep), "mean", "sd",
                     ~quantile(.x, probs = c(0.05, 0.95)), "rhat", "ess_bulk")
names(s) <- c("name", "mean", "sd", "q5", "q95", "rhat", "ess_bulk")
write.csv(s, file.path(OUT, "summary.csv"), row.names = FALSE)
writeLines(stancode(fit), file.path(OUT, "model.stan"))
meta <- list(formula = "bf(mvbind(y1, y2) ~ x + z + (1 | g)) + set_rescor(TRUE)",
             chains = 2, iter = 2000, warmup = 1000, seed = 3, seconds = seconds,
             brms = as.character(packageVersion("brms")), R = R.version.string)
writeLines(toJSON(meta, auto_unbox = TRUE, pretty = TRUE), file.path(OUT, "meta.json"))
