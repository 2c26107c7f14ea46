/// The noise distribution a mechanism adds, with its exact parameter.
public enum NoiseDistribution: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Discrete Laplace with scale b: P(z) ∝ exp(−|z|/b).
    case discreteLaplace(scale: Rational)
    /// Discrete Gaussian with parameter σ²: P(z) ∝ exp(−z²/(2σ²)).
    case discreteGaussian(sigmaSquared: Rational)

    /// A human-readable form.
    public var description: String {
        switch self {
        case let .discreteLaplace(scale): "discrete Laplace (scale \(scale))"
        case let .discreteGaussian(sigmaSquared): "discrete Gaussian (σ² = \(sigmaSquared))"
        }
    }
}

/// A mechanism that releases integer count vectors by adding independent integer noise to every
/// cell, with a privacy cost proved from the declared sensitivity of the query.
///
/// The caller is responsible for the sensitivity it declares: it must bound how much the count
/// vector can change when one privacy unit (one case) is added or removed (see
/// docs/privacy-model.md). Cells must range over a public domain fixed before looking at the data.
public protocol CountMechanism: Sendable {
    /// What this mechanism costs per invocation (one whole vector).
    var cost: PrivacyCost { get }
    /// The noise added to each cell.
    var noise: NoiseDistribution { get }
    /// One draw of the per-cell noise.
    func sampleNoise(using bits: inout RandomBits) throws(PrivacyError) -> Int64
}

extension CountMechanism {
    /// The noisy counts: `counts[i] + Z_i` with independent `Z_i`. Throws on `Int64` overflow.
    public func release(_ counts: [Int64], using bits: inout RandomBits) throws(PrivacyError) -> [Int64] {
        var out = counts
        for i in out.indices {
            let z = try sampleNoise(using: &bits)
            let (v, o) = out[i].addingReportingOverflow(z)
            if o { throw .countOverflow(index: i) }
            out[i] = v
        }
        return out
    }

    /// The half-width `h` of the two-sided interval `[y − h, y + h]` that contains each true count
    /// with probability at least `1 − alpha` (see ``Accuracy``).
    public func halfWidth(alpha: Double) throws(PrivacyError) -> Int64 {
        try Accuracy.halfWidth(for: noise, alpha: alpha)
    }
}

/// The discrete Gaussian mechanism under zero-concentrated DP.
///
/// Privacy: for a query whose L2 sensitivity under add/remove-one-case is Δ₂ (‖q(D) − q(D′)‖₂ ≤ Δ₂),
/// adding independent discrete Gaussian noise N_ℤ(0, σ²) to every cell is ρ-zCDP with
/// ρ = Δ₂²/(2σ²) (Canonne, Kamath & Steinke 2020, Theorem 4 — the same as the continuous Gaussian).
/// A histogram in which each case falls in exactly one cell has Δ₂ = 1.
public struct DiscreteGaussianMechanism: CountMechanism {
    /// σ² of the per-cell noise.
    public let sigmaSquared: Rational
    /// The declared squared L2 sensitivity Δ₂².
    public let l2SensitivitySquared: Rational
    let sampler: DiscreteGaussianSampler

    /// A mechanism with noise σ² for a query of squared L2 sensitivity Δ₂² (default 1).
    public init(sigmaSquared: Rational, l2SensitivitySquared: Rational = .one) throws(PrivacyError) {
        guard l2SensitivitySquared.isPositive else {
            throw .parameterOutOfRange(what: "L2 sensitivity²", reason: "must be > 0")
        }
        sampler = try DiscreteGaussianSampler(sigmaSquared: sigmaSquared)
        self.sigmaSquared = sigmaSquared
        self.l2SensitivitySquared = l2SensitivitySquared
        _ = try cost.rho()  // check that ρ is representable
    }

    /// The mechanism that spends exactly ρ: σ² = Δ₂²/(2ρ).
    public init(rho: Rational, l2SensitivitySquared: Rational = .one) throws(PrivacyError) {
        guard rho.isPositive else { throw .parameterOutOfRange(what: "ρ", reason: "must be > 0, got \(rho)") }
        let s2 = try l2SensitivitySquared.divided(by: rho.multiplied(by: Rational(integer: 2)))
        try self.init(sigmaSquared: s2, l2SensitivitySquared: l2SensitivitySquared)
    }

    /// ρ = Δ₂²/(2σ²), exact.
    public var cost: PrivacyCost {
        // Cannot fail: checked in init.
        .zCDP(rho: (try? l2SensitivitySquared.divided(by: sigmaSquared.multiplied(by: Rational(integer: 2)))) ?? .zero)
    }

    /// Discrete Gaussian with this σ².
    public var noise: NoiseDistribution { .discreteGaussian(sigmaSquared: sigmaSquared) }

    /// One draw of N_ℤ(0, σ²).
    public func sampleNoise(using bits: inout RandomBits) throws(PrivacyError) -> Int64 {
        try sampler.sampleOne(using: &bits)
    }
}

/// The discrete Laplace (two-sided geometric) mechanism under pure DP.
///
/// Privacy: for a query whose L1 sensitivity under add/remove-one-case is Δ₁, adding independent
/// discrete Laplace noise of scale b to every cell is ε-DP with ε = Δ₁/b (Ghosh, Roughgarden &
/// Sundararajan 2009; Dwork, McSherry, Nissim & Smith 2006 for the continuous analogue): the
/// output density ratio on neighbours is at most exp(Σ|Δ_i|/b) ≤ exp(Δ₁/b). It is also
/// (ε²/2)-zCDP (Bun & Steinke 2016, Proposition 1.4), which is how the ledger charges it.
public struct DiscreteLaplaceMechanism: CountMechanism {
    /// The scale b of the per-cell noise.
    public let scale: Rational
    /// The declared L1 sensitivity Δ₁.
    public let l1Sensitivity: Rational
    let sampler: DiscreteLaplaceSampler

    /// A mechanism with noise scale b for a query of L1 sensitivity Δ₁ (default 1).
    public init(scale: Rational, l1Sensitivity: Rational = .one) throws(PrivacyError) {
        guard l1Sensitivity.isPositive else { throw .parameterOutOfRange(what: "L1 sensitivity", reason: "must be > 0") }
        sampler = try DiscreteLaplaceSampler(scale: scale)
        self.scale = scale
        self.l1Sensitivity = l1Sensitivity
        _ = try l1Sensitivity.divided(by: scale)
    }

    /// The mechanism that spends exactly ε: b = Δ₁/ε.
    public init(epsilon: Rational, l1Sensitivity: Rational = .one) throws(PrivacyError) {
        guard epsilon.isPositive else { throw .parameterOutOfRange(what: "ε", reason: "must be > 0, got \(epsilon)") }
        try self.init(scale: l1Sensitivity.divided(by: epsilon), l1Sensitivity: l1Sensitivity)
    }

    /// ε = Δ₁/b, exact.
    public var cost: PrivacyCost {
        .pureDP(epsilon: (try? l1Sensitivity.divided(by: scale)) ?? .zero)  // checked in init
    }

    /// Discrete Laplace with this scale.
    public var noise: NoiseDistribution { .discreteLaplace(scale: scale) }

    /// One draw of the discrete Laplace noise.
    public func sampleNoise(using bits: inout RandomBits) throws(PrivacyError) -> Int64 {
        try DiscreteLaplaceSampler.sample(t: sampler.t, s: sampler.s, using: &bits)
    }
}
