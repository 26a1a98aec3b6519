# brms's data for approximate GPs on mcycle (no Stan fit: make_standata only), the fixture of
# tests/test_gp.py: the basis of gp(times, k = 20, c = 5/4) at the first rows, its sqrt
# eigenvalues, and the basis of gp(times, x2, k = 5, c = 5/4) (two covariates) and
# gp(times, by = half, k = 10, c = 3/2) (one GP per level).
# Run from the repository root: Rscript benchmarks/reference/mcycle_gp_standata.R
suppressMessages(library(brms))
mcycle <- read.csv("../shared/data/mcycle.csv")
mcycle$x2 <- round(sin(mcycle$times / 7), 3)
mcycle$half <- ifelse(seq_len(nrow(mcycle)) %% 2 == 0, "even", "odd")
out <- "benchmarks/reference/mcycle_brms"
one <- make_standata(accel ~ gp(times, k = 20, c = 5/4), data = mcycle)
two <- make_standata(accel ~ gp(times, x2, k = 5, c = 5/4), data = mcycle)
by <- make_standata(accel ~ gp(times, by = half, k = 10, c = 3/2), data = mcycle)
# brms keeps one row per distinct covariate value (Jgp maps rows to them)
write.csv(data.frame(times = unique(mcycle$times), one$Xgp_1),
          file.path(out, "gp_basis_1d.csv"), row.names = FALSE)
write.csv(data.frame(slambda = one$slambda_1[, 1]), file.path(out, "gp_slambda_1d.csv"),
          row.names = FALSE)
u2 <- unique(mcycle[, c("times", "x2")])
write.csv(data.frame(u2, two$Xgp_1), file.path(out, "gp_basis_2d.csv"), row.names = FALSE)
odd <- mcycle[mcycle$half == "odd", ]
even <- mcycle[mcycle$half == "even", ]
# levels in R's order: even (1), odd (2)
write.csv(data.frame(times = unique(even$times), by$Xgp_1_1),
          file.path(out, "gp_basis_by_even.csv"), row.names = FALSE)
write.csv(data.frame(times = unique(odd$times), by$Xgp_1_2),
          file.path(out, "gp_basis_by_odd.csv"), row.names = FALSE)
priors <- get_prior(accel ~ gp(times, k = 20, c = 5/4) + gp(times, x2, k = 5, c = 5/4),
                    data = mcycle)
pby <- get_prior(accel ~ gp(times, by = half, k = 10, c = 3/2), data = mcycle)
write.csv(rbind(priors[priors$class == "lscale" & priors$coef != "", c("prior", "coef")],
                pby[pby$class == "lscale" & pby$coef != "", c("prior", "coef")]),
          file.path(out, "gp_lscale_priors.csv"), row.names = FALSE)
