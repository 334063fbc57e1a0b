//! The small numeric pieces the analyses share: moments, correlation, quantiles and the
//! Poisson-binomial tail.

pub(crate) fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() { 0.0 } else { xs.iter().sum::<f64>() / xs.len() as f64 }
}

/// Population variance (divided by n): the form KR-20 and α are written with.
pub(crate) fn variance(xs: &[f64]) -> f64 {
    let m = mean(xs);
    if xs.is_empty() { 0.0 } else { xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / xs.len() as f64 }
}

/// Pearson's r; `None` when either side has no spread (the correlation is undefined).
pub(crate) fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// The q-quantile of sorted values by linear interpolation between order statistics
/// (Hyndman and Fan's type 7, what numpy and pandas use by default).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n => {
            let h = (n - 1) as f64 * q;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// P(X ≥ m) for X a sum of independent Bernoulli variables with probabilities `ps` (the
/// Poisson-binomial distribution), computed exactly by convolution.
pub(crate) fn poisson_binomial_tail(ps: &[f64], m: usize, buf: &mut Vec<f64>) -> f64 {
    if m == 0 {
        return 1.0;
    }
    if m > ps.len() {
        return 0.0;
    }
    buf.clear();
    buf.resize(ps.len() + 1, 0.0);
    buf[0] = 1.0;
    for (k, &p) in ps.iter().enumerate() {
        for j in (1..=k + 1).rev() {
            buf[j] = buf[j] * (1.0 - p) + buf[j - 1] * p;
        }
        buf[0] *= 1.0 - p;
    }
    buf[m..].iter().sum::<f64>().min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_match_hand_computed_values() {
        let mut buf = Vec::new();
        // Two fair coins: P(X ≥ 1) = 3/4, P(X ≥ 2) = 1/4.
        assert!((poisson_binomial_tail(&[0.5, 0.5], 1, &mut buf) - 0.75).abs() < 1e-12);
        assert!((poisson_binomial_tail(&[0.5, 0.5], 2, &mut buf) - 0.25).abs() < 1e-12);
        // Equal probabilities are the binomial: ten heads of ten fair coins.
        assert!((poisson_binomial_tail(&[0.5; 10], 10, &mut buf) - 1.0 / 1024.0).abs() < 1e-15);
        assert_eq!(poisson_binomial_tail(&[0.5; 10], 11, &mut buf), 0.0);
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let xs = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile(&xs, 0.5), 3.0);
        assert_eq!(quantile(&xs, 0.25), 1.75);
        assert_eq!(quantile(&xs, 1.0), 8.0);
    }
}
