# brms reference fits of the distribution families, the fixtures of hiermod's family tests.
#
# Run from anywhere (paths are found from this file's location):
#   Rscript benchmarks/reference/families_brms.R                 # every fit whose outputs are missing
#   Rscript benchmarks/reference/families_brms.R zip_salamanders weibull_kidney   # a subset
#   Rscript benchmarks/reference/families_brms.R --force [names] # refit even when outputs exist
#   Rscript benchmarks/reference/families_brms.R --list          # the fit names
# Needs Debian's r-cran-brms (2.18), r-cran-rstan (2.21) and r-cran-lme4; never run in CI (each model
# compiles Stan for 1-4 minutes). Reads ../shared/data/*.csv (see its README) or $HIERMOD_SHARED_DATA.
#
# Writes, per fit, into benchmarks/reference/families_brms/:
#   <fit>_summary.csv  parameter (brms's name), mean, sd, q5, q95, rhat, ess_bulk (posterior::summarise_draws)
#   <fit>_prior.csv    prior_summary(fit)
#   <fit>.stan         stancode(fit)
# and one meta.json with every fit's formula, family, data, factor levels, priors, settings, run time,
# sampler diagnostics and the R / brms / rstan versions. The simulated data sets (sim_*.csv) are written
# beside them, once, from fixed seeds (an existing file is kept so the fixtures stay reproducible).
#
# Every fit has explicit proper priors on b, the mean's Intercept (brms: the intercept of the *centred*
# design matrix; ordinal thresholds) and sd; the zi / hu intercepts and the families' auxiliary
# parameters (shape, sigma, phi, alpha, beta) keep brms's defaults, recorded in <fit>_prior.csv.
# Factors get the level order of the R data sets brms's and glmmTMB's examples use (recorded in meta.json).

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
OUT <- file.path(here, "families_brms")
DATA <- Sys.getenv("HIERMOD_SHARED_DATA", file.path(dirname(ROOT), "shared", "data"))

# Debian's r-cran-bh has no headers (Boost is in /usr/include): rstan needs a directory holding only a
# link "boost" to them (../shared/data/README.md, benchmarks/workflow.py's boost_dir).
if (dir.exists("/usr/include/boost")) {
  boost <- file.path(tempdir(), "boost-include")
  dir.create(boost, showWarnings = FALSE)
  if (!file.exists(file.path(boost, "boost"))) file.symlink("/usr/include/boost", file.path(boost, "boost"))
  rstan::rstan_options(boost_lib = boost)
}

# -- data -------------------------------------------------------------------------------------------

read_shared <- function(name) read.csv(file.path(DATA, name))

salamanders <- function() {
  # glmmTMB's Salamanders: spp and mined in glmmTMB's level order (reference GP, mined "yes")
  d <- read_shared("salamanders.csv")
  d$site <- factor(d$site)
  d$spp <- factor(d$spp, levels = c("GP", "PR", "DM", "EC-A", "EC-L", "DES-L", "DF"))
  d$mined <- factor(d$mined, levels = c("yes", "no"))
  d
}

epilepsy <- function() {
  # brms's epilepsy: Trt, patient (and visit, obs) are factors; zAge, zBase numeric
  d <- read_shared("epilepsy_brms.csv")
  for (f in c("Trt", "patient", "visit", "obs")) d[[f]] <- factor(d[[f]], levels = sort(unique(d[[f]])))
  d
}

kidney <- function() {
  # brms's kidney: sex and disease in brms's level order (reference "male", "other"); patient a factor
  d <- read_shared("kidney.csv")
  d$sex <- factor(d$sex, levels = c("male", "female"))
  d$disease <- factor(d$disease, levels = c("other", "GN", "AN", "PKD"))
  d$recur <- factor(d$recur, levels = c("1", "2"))
  d$patient <- factor(d$patient, levels = sort(unique(d$patient)))
  d
}

inhaler <- function() {
  # brms's inhaler: rating an integer 1..4 (brms orders it), treat / period / carry numeric (+-0.5, 0)
  d <- read_shared("inhaler.csv")
  d$rating <- as.integer(d$rating)
  d
}

# Simulated data, one CSV per family: 400 rows, x ~ normal(0, 1), g with 20 levels "g01".."g20"
# (20 rows each), a group effect u_g ~ normal(0, 0.5).
simulated <- function(kind) {
  path <- file.path(OUT, sprintf("sim_%s.csv", kind))
  if (!file.exists(path)) {
    RNGkind("Mersenne-Twister", "Inversion", "Rejection")
    set.seed(c(skew_normal = 101, exgaussian = 102, beta_binomial = 103)[[kind]])
    n <- 400
    g <- sprintf("g%02d", rep(1:20, each = n / 20))
    x <- rnorm(n)
    u <- rnorm(20, 0, 0.5)[as.integer(factor(g))]
    d <- data.frame(g = g, x = round(x, 6))
    eta <- 1 + 0.5 * d$x + u
    if (kind == "skew_normal") {
      # brms's skew_normal: mu is the mean, sigma the sd, alpha the skewness; truth sigma 1, alpha 4
      d$y <- round(brms::rskew_normal(n, mu = eta, sigma = 1, alpha = 4), 6)
    } else if (kind == "exgaussian") {
      # brms's exgaussian: mu is the mean (normal mean + beta); truth sigma 0.5, beta 1
      d$y <- round(brms::rexgaussian(n, mu = eta, sigma = 0.5, beta = 1), 6)
    } else {
      # beta-binomial: p ~ beta(mu phi, (1 - mu) phi), mu = inv_logit(-0.5 + 0.8 x + u), phi 10
      mu <- plogis(-0.5 + 0.8 * d$x + u)
      d$n <- sample(5:30, n, replace = TRUE)
      d$y <- rbinom(n, d$n, rbeta(n, mu * 10, (1 - mu) * 10))
    }
    dir.create(OUT, showWarnings = FALSE, recursive = TRUE)
    write.csv(d, path, row.names = FALSE)
  }
  d <- read.csv(path)
  d$g <- factor(d$g)
  d
}

# -- the fits ---------------------------------------------------------------------------------------

# b normal(0, 2.5), Intercept student_t(3, 0, 2.5), sd normal(0, 1) (half-normal: sd has lb 0);
# `extra` names the further distributional parameters with predictors (zi, hu) whose b get normal(0, 2.5).
# `intercept`: the kidney fits take a wider student_t(3, 0, 10): brms puts this prior on the intercept
# of centred predictors, hiermod on the raw one, and at 76 rows a scale of 2.5 is felt differently.
priors <- function(extra = character(), intercept = "student_t(3, 0, 2.5)") {
  p <- c(
    set_prior("normal(0, 2.5)", class = "b"),
    set_prior(intercept, class = "Intercept"),
    set_prior("normal(0, 1)", class = "sd")
  )
  for (dpar in extra) p <- c(p, set_prior("normal(0, 2.5)", class = "b", dpar = dpar))
  p
}

# The same priors for a fit with center = FALSE, where the intercepts are coefficients of class b
# (brms has no Intercept class then): student_t(3, 0, 2.5) for mu's, logistic(0, 1) for zi's and hu's
# (brms's default for them), now on the raw intercepts as in hiermod.
priors_raw <- function(extra = character()) {
  p <- c(
    set_prior("normal(0, 2.5)", class = "b"),
    set_prior("student_t(3, 0, 2.5)", class = "b", coef = "Intercept"),
    set_prior("normal(0, 1)", class = "sd")
  )
  for (dpar in extra) {
    p <- c(p, set_prior("normal(0, 2.5)", class = "b", dpar = dpar),
           set_prior("logistic(0, 1)", class = "b", coef = "Intercept", dpar = dpar))
  }
  p
}

salamander_formula <- function(dpar) c("count ~ spp * mined + (1 | site)", sprintf("%s ~ spp * mined", dpar))
kidney_formula <- "time | cens(censored) ~ age + sex + disease + (1 | patient)"
inhaler_formula <- "rating ~ treat + period + carry + (1 | subject)"

FITS <- list(
  zip_salamanders = list(data = "../shared/data/salamanders.csv", read = salamanders, formula = salamander_formula("zi"),
                         family = "zero_inflated_poisson()", prior = priors_raw("zi"), center = FALSE),
  zinb_salamanders = list(data = "../shared/data/salamanders.csv", read = salamanders, formula = salamander_formula("zi"),
                          family = "zero_inflated_negbinomial()", prior = priors_raw("zi"), center = FALSE),
  hurdle_poisson_salamanders = list(data = "../shared/data/salamanders.csv", read = salamanders,
                                    formula = salamander_formula("hu"), family = "hurdle_poisson()",
                                    prior = priors_raw("hu"), center = FALSE),
  negbinomial_epilepsy = list(data = "../shared/data/epilepsy_brms.csv", read = epilepsy,
                              formula = "count ~ zAge + zBase * Trt + (1 | patient)",
                              family = "negbinomial()", prior = priors()),
  weibull_kidney = list(data = "../shared/data/kidney.csv", read = kidney, formula = kidney_formula,
                        family = "weibull()", prior = priors(intercept = "student_t(3, 0, 10)"),
                        adapt_delta = 0.95),  # 29 divergences at brms's default 0.8
  lognormal_kidney = list(data = "../shared/data/kidney.csv", read = kidney, formula = kidney_formula,
                          family = "lognormal()", prior = priors(intercept = "student_t(3, 0, 10)")),
  cumulative_probit_inhaler = list(data = "../shared/data/inhaler.csv", read = inhaler, formula = inhaler_formula,
                                   family = 'cumulative("probit")', prior = priors()),
  sratio_logit_inhaler = list(data = "../shared/data/inhaler.csv", read = inhaler, formula = inhaler_formula,
                              family = 'sratio("logit")', prior = priors()),
  skew_normal_sim = list(data = "benchmarks/reference/families_brms/sim_skew_normal.csv", read = function() simulated("skew_normal"),
                         formula = "y ~ x + (1 | g)", family = "skew_normal()", prior = priors()),
  exgaussian_sim = list(data = "benchmarks/reference/families_brms/sim_exgaussian.csv", read = function() simulated("exgaussian"),
                        formula = "y ~ x + (1 | g)", family = "exgaussian()", prior = priors()),
  beta_binomial_sim = list(data = "benchmarks/reference/families_brms/sim_beta_binomial.csv",
                           read = function() simulated("beta_binomial"),
                           formula = "y | trials(n) ~ x + (1 | g)", family = "beta_binomial()",
                           prior = priors())
)

# -- running one fit --------------------------------------------------------------------------------

outputs <- function(name) file.path(OUT, paste0(name, c("_summary.csv", "_prior.csv", ".stan")))

# The factors of the formula: their levels in order (a grouping factor's with over 30 levels: how many).
levels_of <- function(d, formula) {
  used <- unique(unlist(lapply(formula, function(f) all.vars(as.formula(f)))))
  f <- Filter(is.factor, d[intersect(used, names(d))])
  lapply(f, function(v) if (nlevels(v) > 30) sprintf("%d levels, sorted", nlevels(v)) else levels(v))
}

run_fit <- function(name) {
  spec <- FITS[[name]]
  data <- spec$read()
  # center = FALSE puts the Intercept priors on the raw intercepts, as hiermod does (brms's default
  # puts them on the intercepts of centred predictors, which moves weakly informed ones: the
  # salamanders' zi and hu intercepts)
  center <- is.null(spec$center) || isTRUE(spec$center)
  formula <- brms::bf(as.formula(spec$formula[[1]]), center = center)
  for (extra in spec$formula[-1]) formula <- formula + brms::lf(as.formula(extra), center = center)
  family <- eval(parse(text = spec$family))
  now <- function() unname(proc.time()[["elapsed"]])
  marks <- c(start = now())
  message(sprintf("== %s: %s, %s", name, paste(spec$formula, collapse = "; "), spec$family))
  fit <- withCallingHandlers(
    brm(formula, data = data, family = family, prior = spec$prior, chains = CHAINS,
        iter = WARMUP + DRAWS, warmup = WARMUP, cores = CORES, seed = SEED, refresh = 0,
        control = list(adapt_delta = if (is.null(spec$adapt_delta)) 0.8 else spec$adapt_delta),
        backend = "rstan"),
    message = function(m) {
      text <- conditionMessage(m)
      if (grepl("Compiling Stan program", text)) marks[["compile"]] <<- now()
      if (grepl("Start sampling", text)) marks[["sample"]] <<- now()
    }
  )
  marks[["end"]] <- now()
  write_outputs(name, spec, data, fit, marks)
}

write_outputs <- function(name, spec, data, fit, marks) {
  mark <- function(k) if (k %in% names(marks)) marks[[k]] else NA

  draws <- as_draws_df(fit)
  draws <- subset_draws(draws, variable = setdiff(variables(draws), "lp__"))
  s <- summarise_draws(draws, mean, sd, ~quantile(.x, probs = c(0.05, 0.95)), rhat, ess_bulk)
  num <- function(v) as.numeric(unclass(v))  # posterior's columns are pillar_num vectors
  summary <- data.frame(parameter = s$variable, mean = num(s$mean), sd = num(s$sd), q5 = num(s[["5%"]]),
                        q95 = num(s[["95%"]]), rhat = num(s$rhat), ess_bulk = num(s$ess_bulk))
  write.csv(summary, outputs(name)[[1]], row.names = FALSE)
  # as print(prior_summary(fit)) shows it: a coefficient's inherited prior filled in, "(flat)" for none
  ps <- as.data.frame(brms:::prepare_print_prior(prior_summary(fit)))
  write.csv(ps, outputs(name)[[2]], row.names = FALSE)
  writeLines(as.character(stancode(fit)), outputs(name)[[3]])

  sampler <- rstan::get_sampler_params(fit$fit, inc_warmup = FALSE)
  stat <- function(k) sum(unlist(lapply(sampler, function(p) p[, k])))
  max_depth <- fit$fit@stan_args[[1]]$control$max_treedepth
  if (is.null(max_depth)) max_depth <- 10
  fixed <- !grepl("^r_", summary$parameter)  # group-level effects r_*[level,term] left out below
  high <- is.finite(summary$rhat) & summary$rhat > 1.01
  info <- list(
    formula = spec$formula,
    family = spec$family,
    family_links = Filter(is.character, fit$family[grep("^link", names(fit$family))]),
    data = spec$data,
    rows = nrow(data),
    factor_levels = levels_of(data, spec$formula),
    priors = data.frame(prior = ps$prior, class = ps$class, coef = ps$coef, group = ps$group,
                        dpar = ps$dpar, lb = ps$lb, ub = ps$ub, source = ps$source),
    settings = list(chains = CHAINS, warmup = WARMUP, draws = DRAWS, seed = SEED, cores = CORES,
                    adapt_delta = if (is.null(spec$adapt_delta)) 0.8 else spec$adapt_delta,
                    max_treedepth = max_depth, backend = "rstan"),
    seconds = list(build = mark("compile") - marks[["start"]], compile = mark("sample") - mark("compile"),
                   sample = marks[["end"]] - mark("sample"), total = marks[["end"]] - marks[["start"]],
                   stan_chains = sum(rstan::get_elapsed_time(fit$fit))),
    divergences = stat("divergent__"),
    treedepth_hits = sum(unlist(lapply(sampler, function(p) p[, "treedepth__"] >= max_depth))),
    max_rhat = max(summary$rhat, na.rm = TRUE),
    min_ess_bulk = min(summary$ess_bulk, na.rm = TRUE),
    min_ess_bulk_not_r = min(summary$ess_bulk[fixed], na.rm = TRUE),
    rhat_above_1.01 = summary$parameter[high & fixed],
    r_rhat_above_1.01 = sum(high & !fixed),
    versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                    brms = as.character(packageVersion("brms")),
                    rstan = as.character(packageVersion("rstan")),
                    posterior = as.character(packageVersion("posterior"))),
    date = format(Sys.time(), "%Y-%m-%d")
  )
  meta_path <- file.path(OUT, "meta.json")
  meta <- if (file.exists(meta_path)) fromJSON(meta_path, simplifyVector = FALSE) else list()
  meta$about <- paste("brms reference fits written by benchmarks/reference/families_brms.R;",
                      "summaries over 4 chains x 1000 draws (posterior::summarise_draws)")
  meta$fits[[name]] <- fromJSON(toJSON(info, auto_unbox = TRUE, digits = NA, na = "null"),
                                simplifyVector = FALSE)
  meta$fits <- meta$fits[order(match(names(meta$fits), names(FITS)))]
  writeLines(toJSON(meta, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null"),
             meta_path)
  message(sprintf("== %s done in %.0f s: %d divergences, max R-hat %.3f, min bulk ESS %.0f", name,
                  info$seconds$total, info$divergences, info$max_rhat, info$min_ess_bulk))
}

# -- command line -----------------------------------------------------------------------------------

args <- commandArgs(trailingOnly = TRUE)
if ("--list" %in% args) {
  cat(names(FITS), sep = "\n")
  quit(save = "no")
}
force <- "--force" %in% args
wanted <- setdiff(args, "--force")
if (length(wanted) == 0) wanted <- names(FITS)
unknown <- setdiff(wanted, names(FITS))
if (length(unknown)) stop("unknown fit(s): ", paste(unknown, collapse = ", "),
                          "; known: ", paste(names(FITS), collapse = ", "))
dir.create(OUT, showWarnings = FALSE, recursive = TRUE)
failed <- character()
for (name in wanted) {
  if (!force && all(file.exists(outputs(name)))) {
    message(sprintf("== %s: outputs exist, skipped (--force refits)", name))
    next
  }
  ok <- tryCatch({ run_fit(name); TRUE }, error = function(e) {
    message(sprintf("== %s FAILED: %s", name, conditionMessage(e)))
    FALSE
  })
  if (!ok) failed <- c(failed, name)
}
if (length(failed)) {
  message("failed: ", paste(failed, collapse = ", "))
  quit(save = "no", status = 1)
}
