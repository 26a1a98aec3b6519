# brms's Stan code of a multivariate model with residual correlation (issue 15), for the names
# hiermod follows (Lrescor, sigma_y1, rescor). Writes benchmarks/reference/mvbind_brms/make_stancode.stan.
#   Rscript benchmarks/reference/mvbind_stancode.R        (brms 2.18; no Stan compile needed)
suppressMessages(library(brms))
set.seed(1)
d <- data.frame(x = rnorm(20), z = rnorm(20), g = factor(sample(1:3, 20, TRUE)))
d$y1 <- rnorm(20)
d$y2 <- rnorm(20)
here <- local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(file) == 1) dirname(normalizePath(file)) else normalizePath("benchmarks/reference")
})
code <- make_stancode(bf(mvbind(y1, y2) ~ x + (1 | g)) + set_rescor(TRUE), data = d)
writeLines(code, file.path(here, "mvbind_brms", "make_stancode.stan"))
