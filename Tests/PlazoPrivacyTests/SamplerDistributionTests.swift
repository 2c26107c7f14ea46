import Foundation
@_spi(Testing) @testable import PlazoPrivacy
import Testing

/// χ², mean, variance and tail tests of the exact samplers against their exact pmfs.
///
/// Thresholds: χ² at upper-tail probability 1e-4; mean within 5 standard errors (√(Var/N));
/// sample variance within 5 standard errors (√((μ₄ − σ⁴)/N)); a tail frequency within 5 binomial
/// standard errors of its exact probability. With fixed seeds the outcome is deterministic; a
/// correct sampler fails one of these checks with probability below 1e-3 for any seed.
@Suite("Sampler distributions")
struct SamplerDistributionTests {
    static let sampleCount = 400_000

    struct LaplaceCase: CustomTestStringConvertible, Sendable {
        var scale: String
        var range: Int64
        var binWidth: Int64
        var testDescription: String { "scale \(scale)" }
    }

    static let laplaceCases: [LaplaceCase] = [
        .init(scale: "1", range: 25, binWidth: 1),
        .init(scale: "3/2", range: 30, binWidth: 1),
        .init(scale: "1/3", range: 10, binWidth: 1),
        .init(scale: "10", range: 200, binWidth: 1),
        .init(scale: "22/7", range: 70, binWidth: 1),
        .init(scale: "1000", range: 20_000, binWidth: 50),
    ]

    @Test("Discrete Laplace matches its pmf", arguments: laplaceCases)
    func discreteLaplace(_ c: LaplaceCase) throws {
        let scale = try Rational(parsing: c.scale)
        let sampler = try DiscreteLaplaceSampler(scale: scale)
        var bits = RandomBits.seededForTesting(0x1A91_ACE0 ^ UInt64(c.range))
        let xs = try sampler.samples(count: Self.sampleCount, using: &bits)
        let pmf = { (x: Int64) in Accuracy.discreteLaplacePMF(scale: scale, at: x) }
        try checkDistribution(xs, pmf: pmf, range: c.range, binWidth: c.binWidth,
                              variance: Accuracy.discreteLaplaceVariance(scale: scale))
    }

    struct GaussianCase: CustomTestStringConvertible, Sendable {
        var sigmaSquared: String
        var range: Int64
        var binWidth: Int64
        var testDescription: String { "σ² \(sigmaSquared)" }
    }

    static let gaussianCases: [GaussianCase] = [
        .init(sigmaSquared: "1", range: 12, binWidth: 1),
        .init(sigmaSquared: "9/4", range: 15, binWidth: 1),
        .init(sigmaSquared: "1/5", range: 6, binWidth: 1),
        .init(sigmaSquared: "100", range: 80, binWidth: 1),
        .init(sigmaSquared: "1000/7", range: 90, binWidth: 1),
        .init(sigmaSquared: "1000000", range: 8000, binWidth: 25),
    ]

    @Test("Discrete Gaussian matches its pmf", arguments: gaussianCases)
    func discreteGaussian(_ c: GaussianCase) throws {
        let s2 = try Rational(parsing: c.sigmaSquared)
        let sampler = try DiscreteGaussianSampler(sigmaSquared: s2)
        var bits = RandomBits.seededForTesting(0x6A05_5000 ^ UInt64(c.range))
        let xs = try sampler.samples(count: Self.sampleCount, using: &bits)
        let pmf = { (x: Int64) in Accuracy.discreteGaussianPMF(sigmaSquared: s2, at: x) }
        try checkDistribution(xs, pmf: pmf, range: c.range, binWidth: c.binWidth,
                              variance: Accuracy.discreteGaussianVariance(sigmaSquared: s2))
        // CKS 2020 Corollary 9: the variance is below σ².
        #expect(Accuracy.discreteGaussianVariance(sigmaSquared: s2) < s2.doubleValue)
    }

    @Test("The χ² check has power: it rejects a sampler whose scale is 10% off")
    func chiSquaredDetectsWrongScale() throws {
        var bits = RandomBits.seededForTesting(99)
        let xs = try DiscreteLaplaceSampler(scale: Rational(11, 10)).samples(count: Self.sampleCount, using: &bits)
        let claimed = Rational(integer: 1)
        let chi = chiSquared(samples: xs, pmf: { Accuracy.discreteLaplacePMF(scale: claimed, at: $0) }, range: 25)
        #expect(!chi.passes, "\(chi)")
        var bits2 = RandomBits.seededForTesting(98)
        let ys = try DiscreteGaussianSampler(sigmaSquared: Rational(21, 20)).samples(count: Self.sampleCount, using: &bits2)
        let chi2 = chiSquared(samples: ys, pmf: { Accuracy.discreteGaussianPMF(sigmaSquared: .one, at: $0) }, range: 12)
        #expect(!chi2.passes, "\(chi2)")
    }

    func checkDistribution(_ xs: [Int64], pmf: (Int64) -> Double, range: Int64, binWidth: Int64, variance: Double) throws {
        let n = Double(xs.count)
        let chi = chiSquared(samples: xs, pmf: pmf, range: range, binWidth: binWidth)
        #expect(chi.passes, "\(chi)")

        let m = moments(pmf: pmf, range: range * 3)
        #expect(abs(m.variance - variance) <= 1e-6 * variance, "pmf variance \(m.variance) vs closed form \(variance)")
        let (mean, sampleVar) = sampleMeanAndVariance(xs)
        let meanBound = 5 * (variance / n).squareRoot()
        #expect(abs(mean) <= meanBound, "mean \(mean) outside ±\(meanBound)")
        let varBound = 5 * ((m.fourth - variance * variance) / n).squareRoot()
        #expect(abs(sampleVar - variance) <= varBound, "variance \(sampleVar) vs \(variance) ± \(varBound)")

        // Tail frequency beyond a point where the exact tail is a few percent.
        var h: Int64 = 0
        var inside = pmf(0)
        while 1 - inside > 0.03 { h += 1; inside += 2 * pmf(h) }
        let tail = 1 - inside
        let observedTail = Double(xs.lazy.filter { $0.magnitude > h.magnitude }.count) / n
        let tailBound = 5 * (tail * (1 - tail) / n).squareRoot()
        #expect(abs(observedTail - tail) <= tailBound, "P(|Z|>\(h)) observed \(observedTail) vs \(tail) ± \(tailBound)")
        #expect(xs.contains { $0 < 0 } && xs.contains { $0 > 0 })
    }
}

@Suite("Bernoulli and uniform primitives")
struct PrimitiveTests {
    /// Observed frequency within 5 binomial standard errors of p (two-sided probability ~6e-7).
    func expectFrequency(_ successes: Int, _ n: Int, _ p: Double, _ label: String) {
        let f = Double(successes) / Double(n)
        let bound = 5 * (p * (1 - p) / Double(n)).squareRoot() + 1e-12
        #expect(abs(f - p) <= bound, "\(label): frequency \(f) vs \(p) ± \(bound)")
    }

    @Test("Bernoulli(p) for rational p", arguments: ["0", "1", "1/2", "1/3", "2/7", "999/1000", "1/1000"])
    func bernoulli(_ text: String) throws {
        let p = try Rational(parsing: text)
        let sampler = try BernoulliSampler(probability: p)
        var bits = RandomBits.seededForTesting(7)
        let n = 100_000
        var k = 0
        for _ in 0..<n where sampler.sample(using: &bits) { k += 1 }
        if p == .zero { #expect(k == 0) } else if p == .one { #expect(k == n) } else { expectFrequency(k, n, p.doubleValue, "Bernoulli(\(p))") }
    }

    @Test("Bernoulli(exp(-γ)) for rational γ", arguments: ["0", "1/2", "1", "3/2", "5/2", "7", "1/1000000007"])
    func bernoulliExp(_ text: String) throws {
        let g = try Rational(parsing: text)
        let sampler = try BernoulliExpSampler(gamma: g)
        var bits = RandomBits.seededForTesting(11)
        let n = 100_000
        var k = 0
        for _ in 0..<n where sampler.sample(using: &bits) { k += 1 }
        if g == .zero { #expect(k == n) } else { expectFrequency(k, n, exp(-g.doubleValue), "BernoulliExp(\(g))") }
    }

    @Test("Bernoulli(exp(-γ)) with a denominator beyond 64 bits stays exact")
    func bernoulliExpWide() {
        // γ = (2^70 + 1)/2^71 ≈ 1/2, exercising the 128-bit path.
        var bits = RandomBits.seededForTesting(13)
        let n = 100_000
        var k = 0
        for _ in 0..<n where PlazoPrivacy.bernoulliExp((UInt128(1) << 70) + 1, over: UInt128(1) << 71, using: &bits) { k += 1 }
        expectFrequency(k, n, exp(-0.5), "BernoulliExp(≈1/2, 128-bit)")
    }

    @Test("Uniform integers are unbiased", arguments: [3, 7, 10, 1000, (1 << 32) + 15, 3 << 62] as [UInt64])
    func uniform(_ bound: UInt64) {
        var bits = RandomBits.seededForTesting(bound)
        let n = 60_000
        let buckets = Int(min(6, bound))
        var counts = [Int](repeating: 0, count: buckets)
        for _ in 0..<n {
            let u = bits.uniform(below: bound)
            #expect(u < bound)
            // Map to 6 buckets by value; each bucket's exact probability is its share of 0..<bound.
            counts[Int(UInt128(u) * UInt128(buckets) / UInt128(bound))] += 1
        }
        var stat = 0.0
        for i in 0..<buckets {
            let lo = (UInt128(bound) * UInt128(i) + UInt128(buckets) - 1) / UInt128(buckets)
            let hi = (UInt128(bound) * UInt128(i + 1) + UInt128(buckets) - 1) / UInt128(buckets)
            let e = Double(hi - lo) / Double(bound) * Double(n)
            stat += (Double(counts[i]) - e) * (Double(counts[i]) - e) / e
        }
        #expect(stat <= chiSquaredCritical(degreesOfFreedom: buckets - 1), "χ²=\(stat)")
    }

    @Test("Integer square root is exact")
    func isqrt() {
        for x: UInt64 in [0, 1, 2, 3, 4, 15, 16, 17, 99, 100, 101, 1 << 40, (1 << 40) - 1, UInt64.max, UInt64.max - 1] {
            let r = PlazoPrivacy.integerSquareRoot(x)
            #expect(UInt128(r) * UInt128(r) <= UInt128(x))
            #expect(UInt128(r + 1) * UInt128(r + 1) > UInt128(x))
        }
    }

    @Test("Production randomness comes from libsodium and is usable")
    func secure() throws {
        var bits = try RandomBits.secure()
        let sampler = try DiscreteLaplaceSampler(scale: Rational(integer: 1))
        let xs = try sampler.samples(count: 20_000, using: &bits)
        // Not a statistical test (the seed is unknown): just that values vary and centre on 0.
        #expect(Set(xs).count > 5)
        #expect(abs(Double(xs.reduce(0, +)) / 20_000) < 0.1)
    }
}
