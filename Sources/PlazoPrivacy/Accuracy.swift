import Foundation

/// Accuracy of the discrete noise distributions, computed from the discrete pmf itself (not from a
/// continuous approximation). Floating point is used here, which is safe because nothing here is
/// sampled; every bound is rounded in the conservative direction, as documented per function.
///
/// A published noisy count `y = x + Z` comes with the interval `[y − h, y + h]`, where `h` is the
/// smallest integer with `P(|Z| ≤ h) ≥ 1 − α`; it contains the true count `x` with probability at
/// least `1 − α` over the noise. Because `Z` is symmetric and integer-valued, no shorter symmetric
/// integer interval has that coverage.
public enum Accuracy {
    /// Relative safety margin applied to every floating-point tail estimate (far above the
    /// accumulated rounding error of the few `exp`/`log`/`erfc` evaluations involved, ~1e-15).
    static let margin = 1e-9

    /// Smallest `h ≥ 0` with P(|Z| ≤ h) ≥ 1 − α for discrete Laplace noise of scale `b`.
    ///
    /// Closed form: with q = exp(−1/b), P(|Z| > h) = 2·q^(h+1)/(1 + q). The tail is evaluated in log
    /// space and inflated by a relative 1e-9 before comparison with α, so `h` is never too small
    /// (at worst one larger than the exact answer, when the exact tail is within 1e-9 of α).
    public static func discreteLaplaceHalfWidth(scale: Rational, alpha: Double) throws(PrivacyError) -> Int64 {
        try checkAlpha(alpha)
        guard scale.isPositive else { throw .parameterOutOfRange(what: "scale", reason: "must be > 0") }
        let logQ = -Double(scale.denominator) / Double(scale.numerator)
        func tailUpper(_ h: Int64) -> Double {
            exp(log(2) + Double(h + 1) * logQ - log1p(exp(logQ))) * (1 + margin)
        }
        // Initial guess from the closed form, then exact local adjustment.
        let guess = (log(alpha) - log(2) + log1p(exp(logQ))) / logQ - 1
        var h = Int64(max(0, min(guess.rounded(.up), 9e15)))
        while h > 0 && tailUpper(h - 1) <= alpha { h -= 1 }
        while tailUpper(h) > alpha { h += 1 }
        return h
    }

    /// Smallest `h ≥ 0` with P(|Z| ≤ h) ≥ 1 − α for discrete Gaussian noise with parameter σ².
    ///
    /// P(|Z| > h) = 2·Σ_{x>h} f(x) / N with f(x) = exp(−x²/(2σ²)) and N = Σ_x f(x). Conservative
    /// evaluation:
    /// - N from below: Poisson summation gives N = σ√(2π)·(1 + 2Σ_{k≥1} exp(−2π²σ²k²)) exactly; the
    ///   series is truncated after 3 terms (a lower bound, all terms being positive) for σ ≥ 1;
    ///   for σ < 1, N is summed directly over |x| ≤ 64 (again a lower bound).
    /// - The tail from above: the first 2,000 terms summed, the rest bounded by the integral
    ///   Σ_{x>m} f(x) ≤ ∫_m^∞ f = σ√(π/2)·erfc(m/(σ√2)) (f is decreasing on x ≥ 0).
    /// - The ratio inflated by a relative 1e-9.
    /// `h` is found by binary search (the tail is decreasing in `h`).
    public static func discreteGaussianHalfWidth(sigmaSquared: Rational, alpha: Double) throws(PrivacyError) -> Int64 {
        try checkAlpha(alpha)
        guard sigmaSquared.isPositive else { throw .parameterOutOfRange(what: "σ²", reason: "must be > 0") }
        let s2 = sigmaSquared.doubleValue
        let lowerN = discreteGaussianNormaliserLowerBound(sigmaSquared: s2)
        func tailUpper(_ h: Int64) -> Double {
            2 * discreteGaussianTailSumUpperBound(sigmaSquared: s2, above: h) / lowerN * (1 + margin)
        }
        var hi: Int64 = max(1, Int64((s2.squareRoot() * 2).rounded(.up)))
        while tailUpper(hi) > alpha {
            hi *= 2
            if hi > 1 << 50 { throw .parameterOutOfRange(what: "α", reason: "too small for this σ²") }
        }
        var lo: Int64 = -1  // tail(lo) > α (or lo = −1 sentinel); tail(hi) ≤ α
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2
            if tailUpper(mid) <= alpha { hi = mid } else { lo = mid }
        }
        return hi
    }

    /// The half-width for the noise of `mechanism` (dispatches on its distribution).
    public static func halfWidth(for noise: NoiseDistribution, alpha: Double) throws(PrivacyError) -> Int64 {
        switch noise {
        case let .discreteLaplace(scale): try discreteLaplaceHalfWidth(scale: scale, alpha: alpha)
        case let .discreteGaussian(sigmaSquared): try discreteGaussianHalfWidth(sigmaSquared: sigmaSquared, alpha: alpha)
        }
    }

    /// P(Z = x) for discrete Laplace noise of scale b: (1 − q)/(1 + q)·q^|x|, q = exp(−1/b).
    public static func discreteLaplacePMF(scale: Rational, at x: Int64) -> Double {
        let logQ = -Double(scale.denominator) / Double(scale.numerator)
        let q = exp(logQ)
        return -expm1(logQ) / (1 + q) * exp(Double(x.magnitude) * logQ)
    }

    /// Var(Z) for discrete Laplace noise of scale b: 2q/(1 − q)², q = exp(−1/b).
    public static func discreteLaplaceVariance(scale: Rational) -> Double {
        let logQ = -Double(scale.denominator) / Double(scale.numerator)
        let q = exp(logQ)
        let oneMinusQ = -expm1(logQ)
        return 2 * q / (oneMinusQ * oneMinusQ)
    }

    /// P(Z = x) for discrete Gaussian noise: exp(−x²/(2σ²)) / N (N as in the half-width).
    public static func discreteGaussianPMF(sigmaSquared: Rational, at x: Int64) -> Double {
        let s2 = sigmaSquared.doubleValue
        let dx = Double(x)
        return exp(-dx * dx / (2 * s2)) / discreteGaussianNormaliserLowerBound(sigmaSquared: s2)
    }

    /// Var(Z) for discrete Gaussian noise (< σ², CKS 2020 Corollary 9), summed directly over
    /// |x| ≤ max(64, 40σ) (the terms beyond are below exp(−800) of the peak).
    public static func discreteGaussianVariance(sigmaSquared: Rational) -> Double {
        let s2 = sigmaSquared.doubleValue
        var num = 0.0, den = 0.0
        let limit = Int(max(64, 40 * s2.squareRoot()))
        for x in -limit...limit {
            let f = exp(-Double(x * x) / (2 * s2))
            num += Double(x * x) * f
            den += f
        }
        return num / den
    }

    static func discreteGaussianNormaliserLowerBound(sigmaSquared s2: Double) -> Double {
        let sigma = s2.squareRoot()
        if sigma >= 1 {
            var series = 1.0
            for k in 1...3 {
                let kk = Double(k * k)
                series += 2 * exp(-2 * Double.pi * Double.pi * s2 * kk)
            }
            return sigma * (2 * Double.pi).squareRoot() * series * (1 - margin)
        }
        var sum = 1.0
        for x in 1...64 { sum += 2 * exp(-Double(x * x) / (2 * s2)) }
        return sum * (1 - margin)
    }

    /// An upper bound on Σ_{x>h} exp(−x²/(2σ²)).
    static func discreteGaussianTailSumUpperBound(sigmaSquared s2: Double, above h: Int64) -> Double {
        let sigma = s2.squareRoot()
        var sum = 0.0
        let start = h + 1
        let m = start + 2000
        var x = start
        while x < m {
            let dx = Double(x)
            sum += exp(-dx * dx / (2 * s2))
            x += 1
        }
        // Σ_{x ≥ m} f(x) ≤ f(m) + ∫_m^∞ f.
        let dm = Double(m)
        let integral = sigma * (Double.pi / 2).squareRoot() * erfc(dm / (sigma * 2.0.squareRoot()))
        return (sum + exp(-dm * dm / (2 * s2)) + integral) * (1 + margin)
    }

    static func checkAlpha(_ alpha: Double) throws(PrivacyError) {
        guard alpha > 0, alpha < 1 else {
            throw .parameterOutOfRange(what: "α", reason: "must be in (0, 1), got \(alpha)")
        }
    }
}
