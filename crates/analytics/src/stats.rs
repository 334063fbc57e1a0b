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

/// P(T ≥ m) for T = Σ kᵢ·Xᵢ, the Xᵢ independent Bernoulli variables with probabilities
/// `ps` and the kᵢ positive integer `weights`: computed exactly by convolving the
/// distribution over the integers 0..=Σkᵢ, then summing its upper part (not 1 minus the
/// lower part, which would lose a small tail to rounding).
pub(crate) fn weighted_tail(ps: &[f64], weights: &[u32], m: u32, buf: &mut Vec<f64>) -> f64 {
    let total: usize = weights.iter().map(|&k| k as usize).sum();
    if m == 0 {
        return 1.0;
    }
    if m as usize > total {
        return 0.0;
    }
    buf.clear();
    buf.resize(total + 1, 0.0);
    buf[0] = 1.0;
    let mut top = 0;
    for (&p, &k) in ps.iter().zip(weights) {
        let k = k as usize;
        top += k;
        for j in (0..=top).rev() {
            let moved = if j >= k { buf[j - k] * p } else { 0.0 };
            buf[j] = buf[j] * (1.0 - p) + moved;
        }
    }
    buf[m as usize..].iter().sum::<f64>().min(1.0)
}

/// A quick estimate of [`weighted_tail`]: 1 when `m` is at or below the mean, else the
/// Bahadur–Rao approximation for lattice sums, `e^{K(λ)−λm} / ((1 − e^{−λ}) σ_λ √(2π))`
/// with λ the saddle point (`K′(λ) = m`), capped by the Chernoff bound `e^{K(λ)−λm}`, which
/// the true tail never exceeds.
pub(crate) fn approximate_tail(ps: &[f64], weights: &[u32], m: u32) -> f64 {
    let m = f64::from(m);
    let mean: f64 = ps.iter().zip(weights).map(|(p, &k)| p * f64::from(k)).sum();
    let max: f64 = weights.iter().map(|&k| f64::from(k)).sum();
    if m <= mean {
        return 1.0;
    }
    if m >= max {
        return ps.iter().product();
    }
    // K(λ) = Σ ln(1 − p + p e^{λk}); Newton on K′(λ) = m from a point past the root's left.
    let cumulants = |lambda: f64| {
        let (mut k0, mut k1, mut k2) = (0.0, 0.0, 0.0);
        for (&p, &k) in ps.iter().zip(weights) {
            let k = f64::from(k);
            let e = p * (lambda * k).exp();
            let q = e / (1.0 - p + e);
            k0 += (1.0 - p + e).ln();
            k1 += q * k;
            k2 += q * (1.0 - q) * k * k;
        }
        (k0, k1, k2)
    };
    let mut lambda = 0.0_f64;
    for _ in 0..50 {
        let (_, k1, k2) = cumulants(lambda);
        if k2 <= 0.0 {
            break;
        }
        let next = lambda + (m - k1) / k2;
        // K′ is increasing and convex-concave; halve a step that overshoots wildly.
        let next = if next > lambda + 2.0 { lambda + 2.0 } else { next.max(lambda / 2.0) };
        if (next - lambda).abs() < 1e-10 {
            lambda = next;
            break;
        }
        lambda = next;
    }
    let (k0, _, k2) = cumulants(lambda);
    let chernoff = (k0 - lambda * m).exp().min(1.0);
    let estimate = chernoff / ((1.0 - (-lambda).exp()) * k2.sqrt() * (2.0 * std::f64::consts::PI).sqrt());
    estimate.min(chernoff)
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
    fn weighted_tails_match_hand_computed_values() {
        let mut buf = Vec::new();
        // Unit weights are the Poisson-binomial.
        let ps = [0.1, 0.5, 0.7, 0.2, 0.9];
        for m in 0..=6 {
            let (w, u) = (weighted_tail(&ps, &[1; 5], m, &mut buf), poisson_binomial_tail(&ps, m as usize, &mut buf));
            assert!((w - u).abs() < 1e-12, "{m}: {w} against {u}");
        }
        // Weights 1 and 2, fair coins: T takes 0, 1, 2, 3 with ¼ each.
        assert!((weighted_tail(&[0.5, 0.5], &[1, 2], 2, &mut buf) - 0.5).abs() < 1e-12);
        assert!((weighted_tail(&[0.5, 0.5], &[1, 2], 3, &mut buf) - 0.25).abs() < 1e-12);
        assert_eq!(weighted_tail(&[0.5, 0.5], &[1, 2], 4, &mut buf), 0.0);
    }

    #[test]
    fn the_approximate_tail_is_close_to_the_exact_one_far_out() {
        let mut buf = Vec::new();
        let ps: Vec<f64> = (0..110).map(|i| 0.05 + 0.6 * f64::from(i % 11) / 10.0).collect();
        let weights: Vec<u32> = ps.iter().map(|p| (1.0 + 0.43 / p).ln().mul_add(20.0, 0.5) as u32).collect();
        let mean: f64 = ps.iter().zip(&weights).map(|(p, &k)| p * f64::from(k)).sum();
        for extra in [300.0, 500.0, 800.0] {
            let m = (mean + extra) as u32;
            let exact = weighted_tail(&ps, &weights, m, &mut buf);
            let approx = approximate_tail(&ps, &weights, m);
            assert!(exact < 1e-3 && exact > 0.0, "{extra}: {exact}");
            assert!((approx / exact - 1.0).abs() < 0.1, "{extra}: {approx} against {exact}");
        }
        assert_eq!(approximate_tail(&ps, &weights, mean as u32), 1.0);
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let xs = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile(&xs, 0.5), 3.0);
        assert_eq!(quantile(&xs, 0.25), 1.75);
        assert_eq!(quantile(&xs, 1.0), 8.0);
    }
}
