# brms reference fit of monotonic effects mo() (issue 15): hiermod's mo() against brms's.
#
#   Rscript benchmarks/reference/monotonic_brms.R            # fit unless the outputs exist
#   Rscript benchmarks/reference/monotonic_brms.R --force    # refit
# Needs Debian's r-cran-brms (2.18) and r-cran-rstan; never run in CI (Stan compiles for 1-3 min).
#
# Simulates 300 rows (seeded) and writes into benchmarks/reference/monotonic_brms/:
#   data.csv       y, x, k (integers 1, 2, 4, 5: 3 is never observed but is a step), size (an
#                  ordered factor small < medium < large < huge)
#   summary.csv    every scalar parameter: name, mean, sd, q5, q95, rhat, ess_bulk
#   model.stan     stancode(fit)
#   meta.json      formula, settings, run time, versions
# The fit keeps brms's default priors (flat on bsp, dirichlet(1) on simo); the fit is cached as .rds
# in $HIERMOD_BRMS_CACHE (default ../brms-cache, outside the repository).

suppressPackageStartupMessages({
  library(brms)
  library(rstan)
  library(posterior)
  library(jsonlite)
})

here <- local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(file) == 1) dirname(normalizePath(file)) else normalizePath("benchmarks/reference")
})
ROOT <- dirname(dirname(here))
OUT <- file.path(here, "monotonic_brms")
CACHE <- Sys.getenv("HIERMOD_BRMS_CACHE", file.path(dirname(ROOT), "brms-cache"))
dir.create(OUT, showWarnings = FALSE)
dir.create(CACHE, showWarnings = FALSE)
force <- "--force" %in% commandArgs(trailingOnly = TRUE)

if (dir.exists("/usr/include/boost")) {  # Debian's r-cran-bh has no headers (as mcycle_brms.R)
  boost <- file.path(tempdir(), "boost-include")
  dir.create(boost, showWarnings = FALSE)
  if (!file.exists(file.path(boost, "boost"))) file.symlink("/usr/include/boost", file.path(boost, "boost"))
  rstan::rstan_options(boost_lib = boost)
}

set.seed(2026)
n <- 300
sizes <- c("small", "medium", "large", "huge")
k <- sample(c(1, 2, 4, 5), n, replace = TRUE)
size <- factor(sample(sizes, n, replace = TRUE), levels = sizes, ordered = TRUE)
x <- rnorm(n)
mo_k <- 2.0 * 4 * c(0, cumsum(c(0.5, 0.2, 0.2, 0.1)))[k]            # bsp 2, simo (.5 .2 .2 .1)
mo_size <- -1.0 * 3 * c(0, cumsum(c(0.2, 0.7, 0.1)))[as.integer(size)]  # bsp -1, simo (.2 .7 .1)
y <- 1 + 0.5 * x + mo_k + mo_size + rnorm(n)
data <- data.frame(y = round(y, 6), x = round(x, 6), k = k, size = size)
write.csv(data, file.path(OUT, "data.csv"), row.names = FALSE)

formula <- y ~ x + mo(k) + mo(size)
cache <- file.path(CACHE, "monotonic.rds")
if (force || !file.exists(file.path(OUT, "summary.csv"))) {
  start <- Sys.time()
  fit <- brm(formula, data = data, chains = 4, iter = 2000, warmup = 1000, seed = 1, cores = 2,
             file = if (force) NULL else sub("\\.rds$", "", cache), refresh = 0)
  seconds <- as.numeric(difftime(Sys.time(), start, units = "secs"))
  draws <- as_draws_df(fit)
  keep <- grep("^(b_|bsp_|simo_|sigma$)", variables(draws), value = TRUE)
  s <- summarise_draws(subset_draws(draws, variable = keep), mean, sd,
                       ~quantile(.x, probs = c(0.05, 0.95)), rhat, ess_bulk)
  num <- function(v) as.numeric(unclass(v))  # posterior's columns are pillar_num vectors
  summary <- data.frame(name = s$variable, mean = num(s$mean), sd = num(s$sd), q5 = num(s[["5%"]]),
                        q95 = num(s[["95%"]]), rhat = num(s$rhat), ess_bulk = num(s$ess_bulk))
  write.csv(summary, file.path(OUT, "summary.csv"), row.names = FALSE)
  writeLines(as.character(stancode(fit)), file.path(OUT, "model.stan"))
  meta <- list(
    formula = "y ~ x + mo(k) + mo(size)", chains = 4, warmup = 1000, draws = 1000, seed = 1,
    seconds = seconds, R = R.version.string, brms = as.character(packageVersion("brms")),
    rstan = as.character(packageVersion("rstan"))
  )
  write_json(meta, file.path(OUT, "meta.json"), auto_unbox = TRUE, pretty = TRUE)
}
