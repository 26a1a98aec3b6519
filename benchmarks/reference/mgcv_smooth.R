# mgcv's mixed-model form of a smooth, as brms 2.18 builds it, for hiermod's basis test
# (tests/test_smooths.py).
#
#   Rscript benchmarks/reference/mgcv_smooth.R
#
# For mcycle's s(times) with bs = "tp" (mgcv's default, k = 10), "cr" and "cc" (k = 10): brms's
# data_sm calls smoothCon(s(times), data, absorb.cons = TRUE, diagonal.penalty = TRUE) (so with
# mgcv's default scale.penalty = TRUE) and then smooth2random(sm, names(data), type = 2). Writes
# benchmarks/reference/mgcv_smooth/<bs>.csv: times, the unpenalised columns Xf_1, … and the
# penalised columns Z_1, … (brms's Xs and Zs_1_1), one row per data row; and scale.csv: each
# basis's S.scale (mgcv's penalty rescaling, maS = norm(S) / norm(X, "I")^2) and the row-sum norm
# of its unconstrained design; and by_cr.csv (below). Reads ../shared/data/mcycle.csv or $HIERMOD_SHARED_DATA.
suppressPackageStartupMessages(library(mgcv))

here <- local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(file) == 1) dirname(normalizePath(file)) else normalizePath("benchmarks/reference")
})
ROOT <- dirname(dirname(here))
OUT <- file.path(here, "mgcv_smooth")
DATA <- Sys.getenv("HIERMOD_SHARED_DATA", file.path(dirname(ROOT), "shared", "data"))
dir.create(OUT, showWarnings = FALSE)
mcycle <- read.csv(file.path(DATA, "mcycle.csv"))

scales <- list()
for (bs in c("tp", "cr", "cc")) {
  spec <- s(times, bs = bs)
  sm <- smoothCon(spec, data = mcycle, absorb.cons = TRUE, diagonal.penalty = TRUE)[[1]]
  re <- smooth2random(sm, names(mcycle), type = 2)
  Xf <- as.matrix(re$Xf)
  Z <- as.matrix(re$rand[[1]])
  colnames(Z) <- paste0("Z_", seq_len(ncol(Z)))
  out <- data.frame(times = mcycle$times, Z)
  if (ncol(Xf) > 0) {  # none for cc
    colnames(Xf) <- paste0("Xf_", seq_len(ncol(Xf)))
    out <- data.frame(times = mcycle$times, Xf, Z)
  }
  write.csv(signif(out, 12), file.path(OUT, paste0(bs, ".csv")), row.names = FALSE)
  raw <- smooth.construct(spec, data = mcycle, knots = NULL)
  scales[[bs]] <- data.frame(
    bs = bs, S_scale = sm$S.scale, X_norm_I = norm(raw$X, type = "I"),
    S_norm_O = norm(raw$S[[1]])
  )
}
write.csv(do.call(rbind, scales), file.path(OUT, "scale.csv"), row.names = FALSE)

# s(times, by = f, bs = "cr") with a factor f (every third row "a", the others "b"): one smooth per
# level; by_cr.csv holds f and each level's columns Xf_<level>_1, Z_<level>_1, ….
mcycle$f <- factor(ifelse(seq_len(nrow(mcycle)) %% 3 == 0, "a", "b"))
sms <- smoothCon(s(times, by = f, bs = "cr"), data = mcycle, absorb.cons = TRUE, diagonal.penalty = TRUE)
out <- data.frame(times = mcycle$times, f = mcycle$f)
for (j in seq_along(sms)) {
  re <- smooth2random(sms[[j]], names(mcycle), type = 2)
  level <- levels(mcycle$f)[j]
  Xf <- as.matrix(re$Xf)  # none for cc
  Z <- as.matrix(re$rand[[1]])
  colnames(Xf) <- paste0("Xf_", level, "_", seq_len(ncol(Xf)))
  colnames(Z) <- paste0("Z_", level, "_", seq_len(ncol(Z)))
  out <- cbind(out, signif(Xf, 12), signif(Z, 12))
}
write.csv(out, file.path(OUT, "by_cr.csv"), row.names = FALSE)
cat("mgcv", as.character(packageVersion("mgcv")), "\n")
