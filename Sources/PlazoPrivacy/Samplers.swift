// Exact samplers after Canonne, Kamath & Steinke (2020), "The Discrete Gaussian for Differential
// Privacy" (NeurIPS 2020; arXiv:2004.00010), Algorithms 1–3.
//
// Why exact: noise drawn with floating point has gaps and rounding patterns that reveal the
// un-noised value (Mironov 2012, "On significance of the least significant bits for differential
// privacy"). Every sampler here uses only integer comparisons of uniform integers with rational
// thresholds, so the output distribution is exactly the stated one, given uniform random bits.
// No `Double` appears in this file.

/// Bernoulli(p) for a rational `p` in [0, 1].
public struct BernoulliSampler: Sendable {
    /// The success probability.
    public let probability: Rational

    /// Refuses `p` outside [0, 1].
    public init(probability: Rational) throws(PrivacyError) {
        guard probability.numerator >= 0, probability.numerator <= probability.denominator else {
            throw .parameterOutOfRange(what: "Bernoulli probability", reason: "must be in [0, 1], got \(probability)")
        }
        self.probability = probability
    }

    /// One trial: `U < numerator` for `U` uniform on `0..<denominator`.
    public func sample(using bits: inout RandomBits) -> Bool {
        bits.bernoulli(UInt64(probability.numerator), over: UInt64(probability.denominator))
    }
}

/// Bernoulli(exp(−γ)) for a rational `γ ≥ 0` (CKS 2020, Algorithm 1).
public struct BernoulliExpSampler: Sendable {
    /// The exponent γ.
    public let gamma: Rational

    /// Refuses negative γ.
    public init(gamma: Rational) throws(PrivacyError) {
        guard gamma.numerator >= 0 else {
            throw .parameterOutOfRange(what: "γ", reason: "must be ≥ 0, got \(gamma)")
        }
        self.gamma = gamma
    }

    /// One trial.
    public func sample(using bits: inout RandomBits) -> Bool {
        bernoulliExp(UInt128(gamma.numerator), over: UInt128(gamma.denominator), using: &bits)
    }
}

/// Bernoulli(exp(−γ)) for `γ = numerator/denominator ∈ [0, 1]`, 64-bit parts.
///
/// CKS Algorithm 1: draw `A_k ~ Bernoulli(γ/k)` for k = 1, 2, … until the first failure at step K;
/// return whether K is odd. P(K > k) = γ^k / k!, so P(K odd) = Σ (−γ)^k / k! = exp(−γ).
/// Each `A_k` is one uniform integer below `denominator·k` compared with `numerator`: no division
/// on the common path (the multiply-and-reject draw only divides on a rare rejection check).
/// If `denominator·k` would overflow, `Bernoulli(γ/k) = Bernoulli(γ) ∧ Bernoulli(1/k)` (independent
/// trials) keeps it exact.
@inline(__always)
func bernoulliExpFraction(_ numerator: UInt64, over denominator: UInt64, using bits: inout RandomBits) -> Bool {
    if numerator == 0 { return true }
    var k: UInt64 = 1
    while true {
        let (den, overflow) = denominator.multipliedReportingOverflow(by: k)
        let success = overflow
            ? bits.bernoulli(numerator, over: denominator) && bits.uniform(below: k) == 0
            : bits.uniform(below: den) < numerator
        if !success { break }
        k &+= 1
    }
    return k & 1 == 1
}

/// Bernoulli(exp(−1)): Algorithm 1 with γ = 1, where `A_1` is certain and `A_k` = Bernoulli(1/k).
/// `A_2` = Bernoulli(1/2) is a single random bit; later trials draw a uniform below k. Expected
/// cost: 1 bit + (e − 2) ≈ 0.72 uniform draws.
@inline(__always)
func bernoulliExpMinusOne(using bits: inout RandomBits) -> Bool {
    if bits.nextBit() { return false }  // A_2 failed: K = 2, even
    var k: UInt64 = 3
    while bits.uniform32(below: k) == 0 { k &+= 1 }
    return k & 1 == 1  // the first failure is at step K = k
}

/// Bernoulli(exp(−γ)) for any rational `γ = numerator/denominator ≥ 0` with 128-bit parts:
/// exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)), a conjunction of independent trials that stops at
/// the first failure (CKS 2020, Algorithm 1, case γ > 1).
func bernoulliExp(_ numerator: UInt128, over denominator: UInt128, using bits: inout RandomBits) -> Bool {
    let (whole, rest) = numerator.quotientAndRemainder(dividingBy: denominator)
    var i: UInt128 = 0
    while i < whole {
        if !bernoulliExpMinusOne(using: &bits) { return false }
        i += 1
    }
    return bernoulliExpFraction128(rest, over: denominator, using: &bits)
}

/// Algorithm 1 for `γ = numerator/denominator ∈ [0, 1)` with 128-bit parts.
func bernoulliExpFraction128(_ numerator: UInt128, over denominator: UInt128, using bits: inout RandomBits) -> Bool {
    if denominator <= UInt128(UInt64.max) {
        return bernoulliExpFraction(UInt64(numerator), over: UInt64(denominator), using: &bits)
    }
    if numerator == 0 { return true }
    var k: UInt128 = 1
    while true {
        let (den, overflow) = denominator.multipliedReportingOverflow(by: k)
        let success = overflow
            ? bits.bernoulli(numerator, over: denominator) && bits.uniform(below: k) == 0
            : bits.uniform(below: den) < numerator
        if !success { break }
        k += 1
    }
    return k & 1 == 1
}

/// The discrete Laplace distribution with rational scale `b = t/s`:
/// `P(X = x) = (1 − q)/(1 + q) · q^|x|` with `q = exp(−1/b) = exp(−s/t)`.
///
/// Adding it to an integer query of L1 sensitivity Δ gives (Δ/b)-DP (Ghosh, Roughgarden &
/// Sundararajan 2009; CKS 2020 §2). Also called the two-sided geometric distribution.
public struct DiscreteLaplaceSampler: Sendable {
    /// Largest numerator and denominator accepted for the scale (2^40). With t ≤ 2^40, the
    /// intermediate `U + t·V` overflows 63 bits only if the geometric part V exceeds 2^22, an
    /// event of probability exp(−2^22) per sample, reported as ``PrivacyError/sampleOverflow``.
    public static let maxScalePart: Int64 = 1 << 40

    /// The scale b.
    public let scale: Rational
    let t: UInt64
    let s: UInt64

    /// Refuses a non-positive scale or one whose parts exceed ``maxScalePart``.
    public init(scale: Rational) throws(PrivacyError) {
        try checkParameter(scale, "discrete Laplace scale", partsUpTo: Self.maxScalePart)
        self.scale = scale
        t = UInt64(scale.numerator)
        s = UInt64(scale.denominator)
    }

    /// One sample.
    public func sample(using bits: inout RandomBits) throws(PrivacyError) -> Int64 {
        try Self.sample(t: t, s: s, using: &bits)
    }

    /// `count` independent samples.
    public func samples(count: Int, using bits: inout RandomBits) throws(PrivacyError) -> [Int64] {
        var out = [Int64](repeating: 0, count: max(count, 0))
        for i in out.indices { out[i] = try Self.sample(t: t, s: s, using: &bits) }
        return out
    }

    /// CKS 2020, Algorithm 2, for scale t/s:
    ///
    /// 1. `U` uniform on `0..<t`; accept it with probability exp(−U/t) (else restart). Then `U` has
    ///    P(U = u) ∝ exp(−u/t): the remainder of a geometric variable of ratio exp(−1/t) modulo t.
    /// 2. `V` = number of successes of Bernoulli(exp(−1)) before the first failure: P(V = v) ∝ exp(−v),
    ///    the quotient. `X = U + t·V` is then geometric with P(X = x) ∝ exp(−x/t).
    /// 3. `Y = ⌊X/s⌋` is geometric with P(Y = y) ∝ exp(−y·s/t) (⌊·/s⌋ of a geometric is geometric).
    /// 4. A random sign; the pair (negative, 0) is rejected so that 0 is not counted twice.
    ///
    /// The result is P(Y = y) ∝ exp(−|y|/b), exactly.
    @inline(__always)
    static func sample(t: UInt64, s: UInt64, using bits: inout RandomBits) throws(PrivacyError) -> Int64 {
        while true {
            var u: UInt64 = 0
            if t > 1 {
                u = bits.uniform(below: t)
                if !bernoulliExpFraction(u, over: t, using: &bits) { continue }
            }
            var v: UInt64 = 0
            while bernoulliExpMinusOne(using: &bits) { v &+= 1 }
            let (tv, o1) = t.multipliedReportingOverflow(by: v)
            let (x, o2) = tv.addingReportingOverflow(u)
            if o1 || o2 || x > UInt64(Int64.max) { throw .sampleOverflow }
            let y = s == 1 ? x : x / s
            let negative = bits.nextBit()
            if negative && y == 0 { continue }
            return negative ? -Int64(y) : Int64(y)
        }
    }
}

/// The discrete Gaussian distribution with rational variance parameter σ²:
/// `P(X = x) = exp(−x²/(2σ²)) / Σ_y exp(−y²/(2σ²))`.
///
/// Adding it to an integer query of L2 sensitivity Δ gives ρ-zCDP with ρ = Δ²/(2σ²) (CKS 2020,
/// Theorem 4). Its variance is below σ² (CKS 2020, Corollary 9).
public struct DiscreteGaussianSampler: Sendable {
    /// Largest numerator and denominator accepted for σ² (2^40; σ up to about 10^6).
    ///
    /// Why: the acceptance exponent γ = (|Y|·d·t − n)² / (2·n·d·t²) (σ² = n/d) is computed exactly in
    /// 128 bits. With n, d ≤ 2^40, d·t² ≤ 2^42, so |Y|·d·t − n exceeds 2^64 (and its square 2^128)
    /// only if the Laplace proposal exceeds 2^22 times its own scale: probability below exp(−2^22).
    public static let maxVariancePart: Int64 = 1 << 40

    /// σ².
    public let sigmaSquared: Rational
    let n: UInt128  // σ² = n / d
    let d: UInt128
    let t: UInt64  // ⌊σ⌋ + 1, the proposal's Laplace scale
    let dt: UInt128  // d·t
    let gammaDenominator: UInt128  // 2·n·d·t²
    let fast: Bool  // true when the exponent fits 64-bit arithmetic for typical proposals

    /// Refuses a non-positive σ² or one whose parts exceed ``maxVariancePart``.
    public init(sigmaSquared: Rational) throws(PrivacyError) {
        try checkParameter(sigmaSquared, "discrete Gaussian σ²", partsUpTo: Self.maxVariancePart)
        self.sigmaSquared = sigmaSquared
        n = UInt128(sigmaSquared.numerator)
        d = UInt128(sigmaSquared.denominator)
        // t = ⌊σ⌋ + 1 = ⌊√⌊n/d⌋⌋ + 1 (⌊√x⌋ = ⌊√⌊x⌋⌋ for x ≥ 0), in integers.
        t = integerSquareRoot(UInt64(sigmaSquared.numerator / sigmaSquared.denominator)) + 1
        dt = d * UInt128(t)
        gammaDenominator = 2 * n * d * UInt128(t) * UInt128(t)
        fast = gammaDenominator <= UInt128(UInt64.max)
    }

    /// The scale t = ⌊σ⌋ + 1 of the discrete Laplace proposal.
    public var proposalScale: Int64 { Int64(t) }

    /// One sample.
    public func sample(using bits: inout RandomBits) throws(PrivacyError) -> Int64 {
        try sampleOne(using: &bits)
    }

    /// `count` independent samples.
    public func samples(count: Int, using bits: inout RandomBits) throws(PrivacyError) -> [Int64] {
        var out = [Int64](repeating: 0, count: max(count, 0))
        for i in out.indices { out[i] = try sampleOne(using: &bits) }
        return out
    }

    /// CKS 2020, Algorithm 3: propose `Y` from the discrete Laplace with scale t = ⌊σ⌋ + 1 and
    /// accept with probability exp(−(|Y| − σ²/t)² / (2σ²)). The ratio of the target to the proposal
    /// is proportional to exactly that factor, so accepted values are discrete Gaussian; the
    /// expected number of proposals is bounded by a small constant (about 1.3–1.8).
    ///
    /// With σ² = n/d: (|Y| − n/(d·t))² / (2n/d) = (|Y|·d·t − n)² / (2·n·d·t²), an exact rational.
    @inline(__always)
    func sampleOne(using bits: inout RandomBits) throws(PrivacyError) -> Int64 {
        while true {
            let y = try DiscreteLaplaceSampler.sample(t: t, s: 1, using: &bits)
            let a = UInt128(y.magnitude) * dt
            let diff = a > n ? a - n : n - a
            if fast && diff <= UInt128(UInt32.max) {
                // Common case: everything in 64 bits, one 64-bit division for ⌊γ⌋.
                let sq = UInt64(diff) * UInt64(diff)
                let den = UInt64(gammaDenominator)
                let (whole, rest) = sq.quotientAndRemainder(dividingBy: den)
                var accept = true
                var i: UInt64 = 0
                while i < whole {
                    if !bernoulliExpMinusOne(using: &bits) { accept = false; break }
                    i &+= 1
                }
                if accept && bernoulliExpFraction(rest, over: den, using: &bits) { return y }
                continue
            }
            guard diff <= UInt128(UInt64.max) else { throw .sampleOverflow }
            if bernoulliExp(diff * diff, over: gammaDenominator, using: &bits) { return y }
        }
    }
}

/// Refuses a sampler parameter that is not positive or whose numerator or denominator exceeds
/// `limit` (a power of two: 2^40 for both samplers; see their `max…Part` constants for why).
func checkParameter(_ value: Rational, _ what: String, partsUpTo limit: Int64) throws(PrivacyError) {
    guard value.isPositive else {
        throw .parameterOutOfRange(what: what, reason: "must be > 0, got \(value)")
    }
    guard value.numerator <= limit, value.denominator <= limit else {
        throw .parameterOutOfRange(what: what, reason: "numerator and denominator must be ≤ 2^\(limit.trailingZeroBitCount), got \(value)")
    }
}

/// ⌊√x⌋ exactly, by Newton's method on integers.
func integerSquareRoot(_ x: UInt64) -> UInt64 {
    if x < 2 { return x }
    var r = UInt64(1) << ((64 - x.leadingZeroBitCount + 1) / 2)  // ≥ √x
    while true {
        let next = (r + x / r) / 2
        if next >= r { return r }
        r = next
    }
}
