# mgcv's two-dimensional thin-plate smooth s(x, z) in brms's mixed-model form, for hiermod's
# tests/test_smooths_2d.py.
#
#   Rscript benchmarks/reference/mgcv_smooth_2d.R
#
# Simulates 200 rows (x, z uniform on [0, 1], y = sin(2 pi x) cos(pi z) + N(0, 0.2^2); seed 2),
# then, as brms 2.18's data_sm: smoothCon(s(x, z), data, absorb.cons = TRUE,
# diagonal.penalty = TRUE) (k = 30, mgcv's default for two columns) and smooth2random(type = 2).
# Writes benchmarks/reference/mgcv_smooth_2d/train.csv: x, z, y, the unpenalised columns Xf_1,
# Xf_2 and the penalised Z_1, …, Z_27 (brms's Xs and Zs_1_1), and P_1, …, P_29 (the constrained
# basis sm$X); new.csv: 40 new points (seed 3, some beyond the data's range) with PredictMat's
# P_1, …, P_29 there. by_v_train.csv, by_v_new.csv: the same for s(x, z, by = v, k = 12) with a
# numeric v (seed 4, uniform on 0.5 to 1.5; at the new points too): no constraint (mgcv's rule for a
# by that is not constant), Xf_1 … Xf_3 (1, x, z times v), Z_1 … Z_9, and P_ the basis before v
# multiplies it (sm$X / v; at the new points PredictMat at v = 1).
suppressPackageStartupMessages(library(mgcv))

here <- local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(file) == 1) dirname(normalizePath(file)) else normalizePath("benchmarks/reference")
})
OUT <- file.path(here, "mgcv_smooth_2d")
dir.create(OUT, showWarnings = FALSE)

set.seed(2)
n <- 200
d <- data.frame(x = runif(n), z = runif(n))
d$y <- sin(2 * pi * d$x) * cos(pi * d$z) + rnorm(n, 0, 0.2)
sm <- smoothCon(s(x, z), data = d, absorb.cons = TRUE, diagonal.penalty = TRUE)[[1]]
re <- smooth2random(sm, names(d), type = 2)
Xf <- as.matrix(re$Xf)
Z <- as.matrix(re$rand[[1]])
P <- sm$X
colnames(Xf) <- paste0("Xf_", seq_len(ncol(Xf)))
colnames(Z) <- paste0("Z_", seq_len(ncol(Z)))
colnames(P) <- paste0("P_", seq_len(ncol(P)))
write.csv(data.frame(signif(d, 15), signif(Xf, 15), signif(Z, 15), signif(P, 15)),
          file.path(OUT, "train.csv"), row.names = FALSE)

set.seed(3)
new <- data.frame(x = runif(40, -0.1, 1.1), z = runif(40, -0.1, 1.1))
Pn <- PredictMat(sm, new)
colnames(Pn) <- paste0("P_", seq_len(ncol(Pn)))
write.csv(data.frame(signif(new, 15), signif(Pn, 15)), file.path(OUT, "new.csv"), row.names = FALSE)
set.seed(4)
d$v <- runif(n, 0.5, 1.5)
new$v <- runif(40, 0.5, 1.5)
sm <- smoothCon(s(x, z, by = v, k = 12), data = d, absorb.cons = TRUE, diagonal.penalty = TRUE)[[1]]
stopifnot(nrow(sm$C) == 0)  # no constraint
re <- smooth2random(sm, names(d), type = 2)
named <- function(m, prefix) {
  m <- as.matrix(m)
  colnames(m) <- paste0(prefix, seq_len(ncol(m)))
  signif(m, 15)
}
write.csv(data.frame(signif(d, 15), named(re$Xf, "Xf_"), named(re$rand[[1]], "Z_"),
                     named(sm$X / d$v, "P_")),
          file.path(OUT, "by_v_train.csv"), row.names = FALSE)
write.csv(data.frame(signif(new, 15), named(PredictMat(sm, transform(new, v = 1)), "P_")),
          file.path(OUT, "by_v_new.csv"), row.names = FALSE)
cat("mgcv", as.character(packageVersion("mgcv")), "S.scale", sm$S.scale, "\n")
