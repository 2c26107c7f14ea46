import Foundation
@_spi(Testing) import PlazoPrivacy
import Testing

/// The continual-counting mechanism (issue 21, item 2): a cohort released 8 times under one
/// lifetime ρ.
@Suite("Continual counting: square-root factorization")
struct ContinualCountingTests {
    typealias CC = ContinualCounting

    /// L·R = A: the decoder applied to the encoder's columns gives running sums, for every encoder
    /// (the published totals are unbiased whatever R is).
    @Test("The decoder inverts the encoder into running sums", arguments: [1, 2, 5, 8, 12, 16])
    func decoderTimesEncoderIsPrefixSum(_ horizon: Int) throws {
        for encoder in [try CC.Encoder.squareRoot(horizon: horizon), try CC.Encoder.evenSplit(horizon: horizon), try CC.Encoder.increments(horizon: horizon)] {
            let l = CC.decoder(encoder)
            let r = encoder.coefficients.map(Double.init)
            // (L·R)ₘ = Σᵢ ℓᵢ·r₍ₘ₋ᵢ₎ must be 1 for every m (the Toeplitz column of A).
            for m in 0..<horizon {
                var s = 0.0
                for i in 0...m { s += l[i] * r[m - i] }
                #expect(abs(s - 1) < 1e-9, "horizon \(horizon), m \(m): \(s)")
            }
        }
    }

    /// The square-root encoder is K·cᵢ rounded, cᵢ = C(2i, i)/4ⁱ: 4096, 2048, 1536, 1280, 1120, …
    @Test func squareRootCoefficients() throws {
        let e = try CC.Encoder.squareRoot(horizon: 8)
        #expect(e.coefficients == [4096, 2048, 1536, 1280, 1120, 1008, 924, 858])
        #expect(e.sensitivitySquared == e.coefficients.reduce(0) { $0 + $1 * $1 })
    }

    /// The target of the issue: at equal lifetime ρ, the last of 8 releases' running totals have a
    /// variance at least 2.5 times lower than with an even split. The same check applied to the even
    /// split itself (ratio 1) and to releasing increments (ratio 1: 8 noises of ρ each summed, the
    /// same as 8 shares of ρ/8) must fail: the threshold discriminates.
    ///
    /// Derivation of the expected value: Var = (Σ_{m<8} c_m²)²/(2ρ) with Σ c_m² = 1.71854 → 2.9534/(2ρ);
    /// even split T/(2ρ) = 8/(2ρ); ratio 8/2.9534 = 2.709.
    @Test func lastReleaseVarianceAtLeast2_5TimesLowerThanEvenSplit() throws {
        let rho = 1.0
        let split = CC.variance(try CC.Encoder.evenSplit(horizon: 8), lifetimeRho: rho, step: 8)
        #expect(abs(split - 8 / (2 * rho)) < 1e-9)
        func ratio(_ e: CC.Encoder) -> Double { split / CC.variance(e, lifetimeRho: rho, step: 8) }
        let squareRoot = ratio(try CC.Encoder.squareRoot(horizon: 8))
        #expect(squareRoot >= 2.5)
        #expect(abs(squareRoot - 2.709) < 0.005)
        #expect(!(ratio(try CC.Encoder.evenSplit(horizon: 8)) >= 2.5))
        #expect(!(ratio(try CC.Encoder.increments(horizon: 8)) >= 2.5))
        // And no release of the schedule is worse than the even split's.
        let e = try CC.Encoder.squareRoot(horizon: 8)
        for k in 1...8 { #expect(CC.variance(e, lifetimeRho: rho, step: k) < split) }
    }

    /// Each release's cost is exact, the schedule spends exactly ρ, and after k releases the spend
    /// is what the first k rows alone cost (so the ledger never under-charges a partial schedule).
    @Test func costsAddUpToTheLifetimeRho() throws {
        let rho = try Rational(1, 2)
        for encoder in [try CC.Encoder.squareRoot(horizon: 8), try CC.Encoder.evenSplit(horizon: 8)] {
            var total = Rational.zero
            var rowsSoFar: Int64 = 0
            for k in 1...8 {
                total = try total.adding(try CC.cost(encoder, lifetimeRho: rho, step: k))
                rowsSoFar += encoder.coefficients[k - 1] * encoder.coefficients[k - 1]
                #expect(total == (try rho.multiplied(by: Rational(rowsSoFar, encoder.sensitivitySquared))))
            }
            #expect(total == rho)
            // The mechanism's own cost over the whole schedule is exactly ρ: σ² = Δ²/(2ρ).
            #expect(try CC.mechanism(encoder, lifetimeRho: rho).cost.rho() == rho)
        }
        #expect(throws: PrivacyError.self) { try CC.cost(try CC.Encoder.squareRoot(horizon: 8), lifetimeRho: rho, step: 9) }
    }

    /// One case at any step in one cell moves the encoded vector by at most Δ₂ in L2.
    @Test func oneCaseMovesTheEncodedStreamByAtMostTheSensitivity() throws {
        let e = try CC.Encoder.squareRoot(horizon: 8)
        for j in 0..<8 {
            let column = (0..<8).map { k in k >= j ? e.coefficients[k - j] : 0 }
            #expect(column.reduce(0) { $0 + $1 * $1 } <= e.sensitivitySquared)
        }
    }

    /// Simulated with seeded bits: the published running totals are unbiased and their variance is
    /// the computed one. 4,000 runs of one cell over 8 releases at ρ = 1/2. Thresholds: the mean of
    /// the error at each step within 4 standard errors (√(Var/4000)); the sample variance within
    /// ±12 % of the computed variance (4,000 draws of a near-normal: the sample variance's relative
    /// sd is √(2/3999) = 2.2 %, so 12 % is over 5 sd; the discrete Gaussian's variance is below σ²
    /// by a negligible e^{-2π²σ²} here).
    @Test func runningTotalsAreUnbiasedWithTheComputedVariance() throws {
        let e = try CC.Encoder.squareRoot(horizon: 8)
        let rho = try Rational(1, 2)
        let mechanism = try CC.mechanism(e, lifetimeRho: rho)
        let increments: [Int64] = [120, 85, 40, 22, 13, 9, 4, 2]
        let truth = increments.indices.map { k in Double(increments[0...k].reduce(0, +)) }
        let runs = 4000
        var sum = [Double](repeating: 0, count: 8), sumSq = [Double](repeating: 0, count: 8)
        var bits = RandomBits.seededForTesting(20261207)
        for _ in 0..<runs {
            var w: [Int64] = []
            for k in 1...8 {
                w.append(try CC.encode(increments: Array(increments[0..<k]), encoder: e, mechanism: mechanism, using: &bits))
                // Online: the totals published at release k depend on w₁ … wₖ only.
                let published = CC.runningTotals(encoded: w, encoder: e)
                #expect(published.count == k)
            }
            let totals = CC.runningTotals(encoded: w, encoder: e)
            for k in 0..<8 {
                let err = totals[k] - truth[k]
                sum[k] += err
                sumSq[k] += err * err
            }
        }
        for k in 0..<8 {
            let expected = CC.variance(e, lifetimeRho: 0.5, step: k + 1)
            let mean = sum[k] / Double(runs)
            let variance = sumSq[k] / Double(runs) - mean * mean
            #expect(abs(mean) < 4 * (expected / Double(runs)).squareRoot(), "step \(k + 1): mean error \(mean)")
            #expect(abs(variance / expected - 1) < 0.12, "step \(k + 1): variance \(variance) vs \(expected)")
        }
    }

    @Test func refusesSchedulesItCannotCarry() {
        #expect(throws: PrivacyError.self) { try CC.Encoder.squareRoot(horizon: 0) }
        #expect(throws: PrivacyError.self) { try CC.Encoder.squareRoot(horizon: 17) }
        #expect(throws: PrivacyError.self) { try CC.Encoder(coefficients: [0, 1]) }
    }
}
