// generated with brms 2.18.0
functions {
  /* hurdle poisson log-PDF of a single response
   * Args:
   *   y: the response value
   *   lambda: mean parameter of the poisson distribution
   *   hu: hurdle probability
   * Returns:
   *   a scalar to be added to the log posterior
   */
  real hurdle_poisson_lpmf(int y, real lambda, real hu) {
    if (y == 0) {
      return bernoulli_lpmf(1 | hu);
    } else {
      return bernoulli_lpmf(0 | hu) +
             poisson_lpmf(y | lambda) -
             log1m_exp(-lambda);
    }
  }
  /* hurdle poisson log-PDF of a single response
   * logit parameterization of the hurdle part
   * Args:
   *   y: the response value
   *   lambda: mean parameter of the poisson distribution
   *   hu: linear predictor for hurdle part
   * Returns:
   *   a scalar to be added to the log posterior
   */
  real hurdle_poisson_logit_lpmf(int y, real lambda, real hu) {
    if (y == 0) {
      return bernoulli_logit_lpmf(1 | hu);
    } else {
      return bernoulli_logit_lpmf(0 | hu) +
             poisson_lpmf(y | lambda) -
             log1m_exp(-lambda);
    }
  }
  /* hurdle poisson log-PDF of a single response
   * log parameterization for the poisson part
   * Args:
   *   y: the response value
   *   eta: linear predictor for poisson part
   *   hu: hurdle probability
   * Returns:
   *   a scalar to be added to the log posterior
   */
  real hurdle_poisson_log_lpmf(int y, real eta, real hu) {
    if (y == 0) {
      return bernoulli_lpmf(1 | hu);
    } else {
      return bernoulli_lpmf(0 | hu) +
             poisson_log_lpmf(y | eta) -
             log1m_exp(-exp(eta));
    }
  }
  /* hurdle poisson log-PDF of a single response
   * log parameterization for the poisson part
   * logit parameterization of the hurdle part
   * Args:
   *   y: the response value
   *   eta: linear predictor for poisson part
   *   hu: linear predictor for hurdle part
   * Returns:
   *   a scalar to be added to the log posterior
   */
  real hurdle_poisson_log_logit_lpmf(int y, real eta, real hu) {
    if (y == 0) {
      return bernoulli_logit_lpmf(1 | hu);
    } else {
      return bernoulli_logit_lpmf(0 | hu) +
             poisson_log_lpmf(y | eta) -
             log1m_exp(-exp(eta));
    }
  }
  // hurdle poisson log-CCDF and log-CDF functions
  real hurdle_poisson_lccdf(int y, real lambda, real hu) {
    return bernoulli_lpmf(0 | hu) + poisson_lccdf(y | lambda) -
           log1m_exp(-lambda);
  }
  real hurdle_poisson_lcdf(int y, real lambda, real hu) {
    return log1m_exp(hurdle_poisson_lccdf(y | lambda, hu));
  }
}
data {
  int<lower=1> N;  // total number of observations
  int Y[N];  // response variable
  int<lower=1> K;  // number of population-level effects
  matrix[N, K] X;  // population-level design matrix
  int<lower=1> K_hu;  // number of population-level effects
  matrix[N, K_hu] X_hu;  // population-level design matrix
  // data for group-level effects of ID 1
  int<lower=1> N_1;  // number of grouping levels
  int<lower=1> M_1;  // number of coefficients per level
  int<lower=1> J_1[N];  // grouping indicator per observation
  // group-level predictor values
  vector[N] Z_1_1;
  int prior_only;  // should the likelihood be ignored?
}
transformed data {
}
parameters {
  vector[K] b;  // population-level effects
  vector[K_hu] b_hu;  // population-level effects
  vector<lower=0>[M_1] sd_1;  // group-level standard deviations
  vector[N_1] z_1[M_1];  // standardized group-level effects
}
transformed parameters {
  vector[N_1] r_1_1;  // actual group-level effects
  real lprior = 0;  // prior contributions to the log posterior
  r_1_1 = (sd_1[1] * (z_1[1]));
  lprior += student_t_lpdf(b[1] | 3, 0, 2.5);
  lprior += normal_lpdf(b[2] | 0, 2.5);
  lprior += normal_lpdf(b[3] | 0, 2.5);
  lprior += normal_lpdf(b[4] | 0, 2.5);
  lprior += normal_lpdf(b[5] | 0, 2.5);
  lprior += normal_lpdf(b[6] | 0, 2.5);
  lprior += normal_lpdf(b[7] | 0, 2.5);
  lprior += normal_lpdf(b[8] | 0, 2.5);
  lprior += normal_lpdf(b[9] | 0, 2.5);
  lprior += normal_lpdf(b[10] | 0, 2.5);
  lprior += normal_lpdf(b[11] | 0, 2.5);
  lprior += normal_lpdf(b[12] | 0, 2.5);
  lprior += normal_lpdf(b[13] | 0, 2.5);
  lprior += normal_lpdf(b[14] | 0, 2.5);
  lprior += logistic_lpdf(b_hu[1] | 0, 1);
  lprior += normal_lpdf(b_hu[2] | 0, 2.5);
  lprior += normal_lpdf(b_hu[3] | 0, 2.5);
  lprior += normal_lpdf(b_hu[4] | 0, 2.5);
  lprior += normal_lpdf(b_hu[5] | 0, 2.5);
  lprior += normal_lpdf(b_hu[6] | 0, 2.5);
  lprior += normal_lpdf(b_hu[7] | 0, 2.5);
  lprior += normal_lpdf(b_hu[8] | 0, 2.5);
  lprior += normal_lpdf(b_hu[9] | 0, 2.5);
  lprior += normal_lpdf(b_hu[10] | 0, 2.5);
  lprior += normal_lpdf(b_hu[11] | 0, 2.5);
  lprior += normal_lpdf(b_hu[12] | 0, 2.5);
  lprior += normal_lpdf(b_hu[13] | 0, 2.5);
  lprior += normal_lpdf(b_hu[14] | 0, 2.5);
  lprior += normal_lpdf(sd_1 | 0, 1)
    - 1 * normal_lccdf(0 | 0, 1);
}
model {
  // likelihood including constants
  if (!prior_only) {
    // initialize linear predictor term
    vector[N] mu = rep_vector(0.0, N);
    // initialize linear predictor term
    vector[N] hu = rep_vector(0.0, N);
    mu += X * b;
    hu += X_hu * b_hu;
    for (n in 1:N) {
      // add more terms to the linear predictor
      mu[n] += r_1_1[J_1[n]] * Z_1_1[n];
    }
    for (n in 1:N) {
      target += hurdle_poisson_log_logit_lpmf(Y[n] | mu[n], hu[n]);
    }
  }
  // priors including constants
  target += lprior;
  target += std_normal_lpdf(z_1[1]);
}
generated quantities {
}

