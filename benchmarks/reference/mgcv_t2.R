# mgcv's tensor-product smooth t2(x, z) (Wood, Scheipl & Faraway 2013) in brms's mixed-model form,
# for hiermod's tests/test_smooths_t2.py.
#
#   Rscript benchmarks/reference/mgcv_t2.R
#
# Simulates 200 rows (x, z uniform on [0, 1], y = sin(2 pi x) cos(pi z) + N(0, 0.2^2); seed 2;
# a third column w uniform on [0, 1], seed 5; a factor f of levels a, b, c and a numeric v uniform
# on [0.5, 1.5], the by columns, seed 7),
# then, as brms 2.18's data_sm: smoothCon(t2(...), data, absorb.cons = TRUE,
# diagonal.penalty = TRUE) and smooth2random(type = 2), for each case of CASES (a name and the
# smooth). Writes benchmarks/reference/mgcv_t2/<name>_train.csv: x, z, y, the unpenalised columns
# Xf_1, … (brms's Xs), the penalised blocks Z1_1, …, Z2_1, …, Z3_1, … (brms's Zs_1_1, Zs_1_2,
# Zs_1_3, …, in mgcv's order of penalties; seven for three columns) and P_1, … (the constrained basis sm$X); <name>_new.csv:
# 40 new points (seed 3, some beyond the data's range) with P_1, …, the fitted basis there
# (see products()), and PM_1, …, mgcv's PredictMat. With a by column (one smooth per level of
# f, or one times v), each level's columns are <level>.Xf_1, …, <level>.Z1_1, … (v's: the level
# "v"), and P_ is the basis before by multiplies it (the sum of the levels' sm$X, or sm$X / v).
# Prints each case's S.scale, penalty ranks and labels.
suppressPackageStartupMessages(library(mgcv))

here <- local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(file) == 1) dirname(normalizePath(file)) else normalizePath("benchmarks/reference")
})
OUT <- file.path(here, "mgcv_t2")
dir.create(OUT, showWarnings = FALSE)

set.seed(2)
n <- 200
d <- data.frame(x = runif(n), z = runif(n))
d$y <- sin(2 * pi * d$x) * cos(pi * d$z) + rnorm(n, 0, 0.2)
set.seed(5)
d$w <- runif(n)  # the third column of the three-margin case
set.seed(7)
d$f <- factor(sample(c("a", "b", "c"), n, replace = TRUE))
d$v <- runif(n, 0.5, 1.5)
set.seed(3)
new <- data.frame(x = runif(40, -0.1, 1.1), z = runif(40, -0.1, 1.1), w = runif(40, -0.1, 1.1))
new$f <- factor(rep(c("a", "b", "c"), length.out = 40))
new$v <- runif(40, 0.5, 1.5)

CASES <- list(
  default = t2(x, z),
  k46 = t2(x, z, k = c(4, 6)),
  cc = t2(x, z, k = c(5, 6), bs = c("cr", "cc")),
  xzw = t2(x, z, w, k = 4),
  cyclic = t2(x, z, k = c(5, 6), bs = "cc"),
  tp = t2(x, z, bs = "tp"),
  mixed = t2(x, z, w, k = c(6, 4, 5), bs = c("tp", "cc", "cr")),
  by_f = t2(x, z, k = 4, by = f),
  by_v = t2(x, z, k = c(4, 5), bs = c("cc", "tp"), by = v)
)

rowkron <- function(a, b) {
  out <- matrix(0, nrow(a), 0)
  for (j in seq_len(ncol(a))) out <- cbind(out, a[, j] * b)
  out
}

# The row-wise Kronecker product of the margins' own PredictMat (the unconstrained marginal bases).
# mgcv 1.8-41's PredictMat of a t2 smooth does not reproduce sm$X even at the training rows (its
# columns are not in sm$X's span; the distance is printed), so the fitted basis at new points, P_,
# is K_new M with M the exact map sm$X = K M on the training rows; PM_ is mgcv's PredictMat.
products <- function(sm, data) {
  Reduce(rowkron, lapply(sm$margin, function(m) PredictMat(m, data)))
}

rounded <- function(frame) {
  frame[] <- lapply(frame, function(column) if (is.numeric(column)) signif(column, 15) else column)
  frame
}

named <- function(m, stem) {
  m <- as.matrix(m)
  if (ncol(m) == 0) return(NULL)  # no unpenalised columns: every margin cyclic
  colnames(m) <- paste0(stem, seq_len(ncol(m)))
  signif(m, 15)
}

for (name in names(CASES)) {
  sms <- smoothCon(CASES[[name]], data = d, absorb.cons = TRUE, diagonal.penalty = TRUE)
  sm <- sms[[1]]
  by <- CASES[[name]]$by
  parts <- list()
  for (one in sms) {
    re <- smooth2random(one, names(d), type = 2)
    stem <- if (by == "NA") "" else paste0(if (is.null(one$by.level)) by else one$by.level, ".")
    parts <- c(parts, list(named(re$Xf, paste0(stem, "Xf_"))),
               lapply(seq_along(re$rand), function(j) named(re$rand[[j]], paste0(stem, "Z", j, "_"))))
  }
  X <- if (by == "f") Reduce(`+`, lapply(sms, function(one) one$X)) else if (by == "v") sm$X / d$v else sm$X
  train <- do.call(data.frame, c(list(rounded(d)), Filter(Negate(is.null), parts), list(named(X, "P_"))))
  write.csv(train, file.path(OUT, paste0(name, "_train.csv")), row.names = FALSE)
  K <- products(sm, d)
  M <- qr.solve(K, X)
  # 1e-10 but for tp margins, whose own PredictMat is 3e-10 from their X at the training rows
  stopifnot(max(abs(K %*% M - X)) < 1e-9 * max(abs(X)))
  fitted <- products(sm, new) %*% M
  if (by == "NA") {
    write.csv(data.frame(rounded(new), named(fitted, "P_"), named(PredictMat(sm, new), "PM_")),
              file.path(OUT, paste0(name, "_new.csv")), row.names = FALSE)
  } else {
    write.csv(data.frame(rounded(new), named(fitted, "P_")),
              file.path(OUT, paste0(name, "_new.csv")), row.names = FALSE)
  }
  PT <- PredictMat(sm, d)
  off <- max(abs(PT - sm$X %*% qr.solve(sm$X, PT)))
  cat(name, "S.scale", sm$S.scale, "ranks", sm$rank, "labels", names(sm$S), "smooths", length(sms),
      "| PredictMat at the training rows, distance from sm$X's span:", signif(off, 3), "\n")
}
cat("mgcv", as.character(packageVersion("mgcv")), "\n")
