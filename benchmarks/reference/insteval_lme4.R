# lme4's maximum-likelihood fit of InstEval, the reference for hiermod's NUTS fit (docs/benchmarks-workflow.md).
# Run from the repository root: Rscript benchmarks/reference/insteval_lme4.R > benchmarks/reference/insteval_lme4.csv
# Reads ../shared/data/insteval.csv (written from lme4's InstEval, see its README).
suppressPackageStartupMessages(library(lme4))
d <- read.csv("../shared/data/insteval.csv")
for (f in c("s", "d", "dept", "service")) d[[f]] <- factor(d[[f]])
seconds <- system.time(
  fit <- lmer(y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept), data = d, REML = FALSE)
)[["elapsed"]]
vc <- as.data.frame(VarCorr(fit))
sds <- setNames(vc$sdcor, vc$grp)
fe <- fixef(fit)
se <- sqrt(diag(as.matrix(vcov(fit))))
out <- data.frame(
  parameter = c("Intercept", "b[service]", "sd_s", "sd_d", "sd_dept", "sigma"),
  estimate = c(fe[["(Intercept)"]], fe[["service1"]], sds[["s"]], sds[["d"]], sds[["dept"]], sds[["Residual"]]),
  se = c(se[[1]], se[[2]], NA, NA, NA, NA)
)
write.csv(out, stdout(), row.names = FALSE)
message(sprintf("lme4 %s, ML fit in %.1f s, logLik %.2f", packageVersion("lme4"), seconds, as.numeric(logLik(fit))))
