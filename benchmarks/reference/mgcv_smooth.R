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
# of its unconstrained design; by_cr.csv and by_v_<bs>.csv, by_v_<bs>_new.csv (below). Reads ../shared/data/mcycle.csv or $HIERMOD_SHARED_DATA.
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

# s(times, by = v, bs = <bs>) with a numeric v (seed 7, uniform on 0.5 to 1.5): the smooth times v,
# with no sum-to-zero constraint (mgcv's rule for a by that is not constant: the null space keeps
# its constant). by_v_<bs>.csv holds times, v, brms's Xs (Xf_) and Zs_1_1 (Z_) and P_, the basis
# before v multiplies it (sm$X / v); by_v_<bs>_new.csv: 40 new times (seed 8, from 0 to 60: some
# beyond the data's range of 2.4 to 57.6), v there and P_, mgcv's PredictMat at v = 1.
set.seed(7)
mcycle$v <- runif(nrow(mcycle), 0.5, 1.5)
set.seed(8)
new <- data.frame(times = runif(40, 0, 60))
new$v <- runif(40, 0.5, 1.5)
named <- function(m, prefix) {
  m <- as.matrix(m)
  colnames(m) <- paste0(prefix, seq_len(ncol(m)))
  signif(m, 12)
}
for (bs in c("tp", "cr", "cc")) {
  sm <- smoothCon(s(times, by = v, bs = bs), data = mcycle, absorb.cons = TRUE,
                  diagonal.penalty = TRUE)[[1]]
  stopifnot(nrow(sm$C) == 0)  # no constraint
  re <- smooth2random(sm, names(mcycle), type = 2)
  P <- sm$X / mcycle$v
  off <- max(abs(PredictMat(sm, transform(mcycle, v = 1)) - P))
  cat("by_v", bs, "| PredictMat at the training rows, distance from sm$X / v:", signif(off, 3), "\n")
  out <- data.frame(times = mcycle$times, v = signif(mcycle$v, 15), named(re$Xf, "Xf_"),
                    named(re$rand[[1]], "Z_"), named(P, "P_"))
  write.csv(out, file.path(OUT, paste0("by_v_", bs, ".csv")), row.names = FALSE)
  at <- data.frame(times = signif(new$times, 15), v = signif(new$v, 15),
                   named(PredictMat(sm, transform(new, v = 1)), "P_"))
  write.csv(at, file.path(OUT, paste0("by_v_", bs, "_new.csv")), row.names = FALSE)
}
cat("mgcv", as.character(packageVersion("mgcv")), "\n")
