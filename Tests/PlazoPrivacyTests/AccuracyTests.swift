import Foundation
@_spi(Testing) import PlazoPrivacy
import Testing

@Suite("Accuracy: confidence-interval half-widths")
struct AccuracyTests {
    /// P(|Z| ≤ h) by direct summation of the pmf (independent of the closed forms / bounds).
    func coverage(_ pmf: (Int64) -> Double, _ h: Int64) -> Double {
        var s = pmf(0)
        var x: Int64 = 1
        while x <= h { s += 2 * pmf(x); x += 1 }
        return s
    }

    @Test("Discrete Laplace half-width is the smallest h with coverage ≥ 1 − α",
          arguments: [("1", 0.05), ("1", 0.01), ("3/2", 0.05), ("10", 0.05), ("10", 0.001), ("1000", 0.05), ("1/4", 0.05)])
    func laplace(_ scaleText: String, _ alpha: Double) throws {
        let scale = try Rational(parsing: scaleText)
        let h = try Accuracy.discreteLaplaceHalfWidth(scale: scale, alpha: alpha)
        let pmf = { (x: Int64) in Accuracy.discreteLaplacePMF(scale: scale, at: x) }
        #expect(coverage(pmf, h) >= 1 - alpha)
        if h > 0 { #expect(coverage(pmf, h - 1) < 1 - alpha) }
    }

    @Test("Known values: discrete Laplace, scale 1, α = 0.05 → h = 3")
    func laplaceKnown() throws {
        // q = e^-1; P(|Z| > h) = 2q^(h+1)/(1+q): h=2 → 0.0729, h=3 → 0.0268. So h = 3.
        #expect(try Accuracy.discreteLaplaceHalfWidth(scale: .one, alpha: 0.05) == 3)
        // Scale 10: P(|Z|>h) = 2e^{-(h+1)/10}/(1+e^{-1/10}) ≤ 0.05 ⇔ h+1 ≥ 10·ln(2/(0.05·1.904837)) = 30.45 → h = 30.
        #expect(try Accuracy.discreteLaplaceHalfWidth(scale: Rational(integer: 10), alpha: 0.05) == 30)
    }

    @Test("Discrete Gaussian half-width is the smallest h with coverage ≥ 1 − α",
          arguments: [("1", 0.05), ("1", 0.01), ("9/4", 0.05), ("100", 0.05), ("100", 1e-6), ("1/5", 0.05), ("1000000", 0.05)])
    func gaussian(_ s2Text: String, _ alpha: Double) throws {
        let s2 = try Rational(parsing: s2Text)
        let h = try Accuracy.discreteGaussianHalfWidth(sigmaSquared: s2, alpha: alpha)
        // Reference normaliser summed directly (not Poisson summation).
        let sigma = s2.doubleValue.squareRoot()
        let limit = Int64(max(64, 40 * sigma))
        var norm = 0.0
        var x = -limit
        while x <= limit { norm += exp(-Double(x) * Double(x) / (2 * s2.doubleValue)); x += 1 }
        let pmf = { (x: Int64) in exp(-Double(x) * Double(x) / (2 * s2.doubleValue)) / norm }
        #expect(coverage(pmf, h) >= 1 - alpha)
        if h > 0 { #expect(coverage(pmf, h - 1) < 1 - alpha) }
        // Close to the continuous Gaussian's z·σ for large σ (sanity, not the definition).
        if sigma >= 10, alpha == 0.05 { #expect(abs(Double(h) - 1.959964 * sigma) <= 1 + 0.001 * sigma) }
    }

    @Test("Known value: discrete Gaussian σ² = 1, α = 0.05 → h = 2")
    func gaussianKnown() throws {
        // N = Σ e^{-x²/2} = 2.50662827…(1 + 2e^{-2π²}+…) = 2.5066283; P(|Z| > 1) = 2(e^{-2}+e^{-4.5}+…)/N = 0.1175;
        // P(|Z| > 2) = 2(e^{-4.5}+e^{-8}+…)/N = 0.00915. So h = 2 at α = 0.05 and h = 1 at α = 0.12.
        #expect(try Accuracy.discreteGaussianHalfWidth(sigmaSquared: .one, alpha: 0.05) == 2)
        #expect(try Accuracy.discreteGaussianHalfWidth(sigmaSquared: .one, alpha: 0.12) == 1)
    }

    @Test("Empirical coverage of the intervals matches 1 − α")
    func empiricalCoverage() throws {
        var bits = RandomBits.seededForTesting(2024)
        let mech = try DiscreteGaussianMechanism(sigmaSquared: Rational(integer: 25))
        let h = try mech.halfWidth(alpha: 0.05)
        let truth: [Int64] = Array(repeating: 40, count: 100_000)
        let noisy = try mech.release(truth, using: &bits)
        let covered = noisy.filter { abs($0 - 40) <= h }.count
        // Exact coverage c ≥ 0.95 (and < 0.95 + P(|Z| = h)); expect within 5 binomial SEs above 0.95.
        let f = Double(covered) / 100_000
        #expect(f >= 0.95 - 5 * (0.05 * 0.95 / 100_000).squareRoot())
    }

    @Test("Bad α is refused")
    func badAlpha() {
        #expect(throws: PrivacyError.self) { try Accuracy.discreteLaplaceHalfWidth(scale: .one, alpha: 0) }
        #expect(throws: PrivacyError.self) { try Accuracy.discreteGaussianHalfWidth(sigmaSquared: .one, alpha: 1) }
    }
}
