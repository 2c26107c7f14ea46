/// Continual counting: releasing the running totals of one count stream T times under one
/// lifetime ρ, by the matrix (factorization) mechanism with a lower-triangular Toeplitz encoder.
///
/// ## The problem
/// A cohort is released again every quarter as its follow-up grows. Write xⱼ for what became
/// observable between cutoffs j − 1 and j in one cell (the stream's increments, j = 1 … T); release
/// k must publish the running total Sₖ = x₁ + … + xₖ. Spending ρ/T on each release and noising each
/// Sₖ afresh (the "even split") gives every Sₖ the variance T/(2ρ). Correlating the noise across
/// releases does much better (Henzinger, Upadhyay & Upadhyay, SODA 2023; Fichtenberger, Henzinger &
/// Upadhyay, ICML 2023, "Constant matters"): factor the prefix-sum matrix A (all ones on and below
/// the diagonal) as A = L·R, release w = R·x + Z once per step, and publish Ŝ = L·w.
///
/// ## What is released, exactly
/// - **Encoder R**: integer, lower-triangular Toeplitz, first column `r` (``Encoder``). Release k
///   draws Zₖ ~ N_ℤ(0, σ²) **exactly** (``DiscreteGaussianMechanism``, libsodium bits in
///   production) and stores wₖ = Σⱼ≤ₖ r₍ₖ₋ⱼ₎·xⱼ + Zₖ, an integer. Only wₖ depends on the data.
/// - **Decoder L = A·R⁻¹**: also lower-triangular Toeplitz, first column `ℓ` (``decoder``).
///   Ŝₖ = Σⱼ≤ₖ ℓ₍ₖ₋ⱼ₎·wⱼ is unbiased for Sₖ (L·R·x = A·x) and is post-processing of w₁ … wₖ, so
///   it is computed in floating point at no privacy cost, and release k never needs a later w:
///   the mechanism is online. Earlier published totals are never revised (later releases are
///   functions of the same w's plus new ones, so nothing contradicts what was published).
///
/// ## Sensitivity and cost
/// The privacy unit is one case. A case contributes +1 to **one** cell at **one** step j (when its
/// counted event becomes observable; see `docs/privacy-model.md` §4a for late events and voids),
/// so adding or removing it changes w by column j of R in one cell:
/// ‖Δw‖₂² = Σ_{m=0}^{T−j} r_m² ≤ Σ_{m<T} r_m² = Δ₂² (the first column is the longest). A table of
/// disjoint cells (each case in at most one) has the same Δ₂². With σ² = Δ₂²/(2ρ) the T releases
/// together are ρ-zCDP (CKS 2020, Thm 4; the whole w is one Gaussian mechanism on R·x, whatever
/// the adaptive order in which its rows are drawn, because each row's noise is independent and
/// the rows' query is fixed in advance).
///
/// **What each release costs.** The first k rows alone have sensitivity² Σ_{m<k} r_m² (a case that
/// enters at step j moves rows j … k by r₀ … r₍ₖ₋ⱼ₎), so after k releases the cohort has spent
/// ρ·Σ_{m<k} r_m²/Δ₂², and release k costs ρ·r²₍ₖ₋₁₎/Δ₂² (``cost(_:lifetimeRho:step:)``, exact).
/// The charge is front-loaded (the square-root encoder spends 58 % of ρ at its first release at
/// T = 8), and the schedule spends exactly ρ by its last release.
///
/// ## The square-root encoder
/// R = L = A^{1/2}: the Toeplitz matrix of cᵢ = C(2i, i)/4ⁱ, the coefficients of (1 − x)^{−1/2}
/// (whose square is (1 − x)^{−1}, the all-ones A). Its per-step variance is
/// Var Ŝₖ = (Σ_{m<T} c_m²)(Σ_{m<k} c_m²)/(2ρ); at T = 8 the last release's is 1.48/ρ against the
/// even split's 4/ρ, 2.71 times lower. The encoder used is R′ = round(K·c) with K = 4096 (integers,
/// so the noise stays exact); L′ = A·R′⁻¹ is computed from R′ itself, so rounding costs no bias and
/// changes the variance by under 0.1 %.
public enum ContinualCounting {
    /// The largest schedule supported (16 releases: four years of quarters).
    public static let maxHorizon = 16

    /// A lower-triangular Toeplitz integer encoder for a schedule of `horizon` releases.
    public struct Encoder: Sendable, Hashable {
        /// The first column rₘ, m = 0 … T − 1 (release k encodes Σⱼ≤ₖ r₍ₖ₋ⱼ₎·xⱼ).
        public let coefficients: [Int64]

        /// Number of releases T.
        public var horizon: Int { coefficients.count }

        /// Δ₂² = Σₘ rₘ², the squared L2 norm of the encoder's longest column: how much one case,
        /// counted once at any step, can move the encoded vector (exact integer).
        public var sensitivitySquared: Int64 { coefficients.reduce(0) { $0 + $1 * $1 } }

        /// An encoder from its first column; r₀ must be positive (the matrix is then invertible).
        public init(coefficients: [Int64]) throws(PrivacyError) {
            guard (1...ContinualCounting.maxHorizon).contains(coefficients.count) else {
                throw .parameterOutOfRange(what: "continual release horizon", reason: "must be 1 to \(ContinualCounting.maxHorizon) releases, got \(coefficients.count)")
            }
            guard let first = coefficients.first, first > 0, coefficients.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
                throw .parameterOutOfRange(what: "continual release encoder", reason: "coefficients must be in 0 … 2^20 with a positive first one")
            }
            self.coefficients = coefficients
        }

        /// The square-root factorization (module documentation), scaled by 4096 and rounded.
        public static func squareRoot(horizon: Int) throws(PrivacyError) -> Encoder {
            var c = 1.0
            var out: [Int64] = []
            for i in 0..<max(horizon, 0) {
                if i > 0 { c *= Double(2 * i - 1) / Double(2 * i) }  // C(2i, i)/4ⁱ by its ratio
                out.append(Int64((4096 * c).rounded()))
            }
            return try Encoder(coefficients: out)
        }

        /// The even split as a factorization: R = A (each release measures its running total
        /// afresh), L = I. Δ₂² = T, so each total has variance T/(2ρ): what spending ρ/T per
        /// release on an independent table gives. The baseline the other encoders are judged by.
        public static func evenSplit(horizon: Int) throws(PrivacyError) -> Encoder {
            try Encoder(coefficients: [Int64](repeating: 1, count: max(horizon, 0)))
        }

        /// Each release's increment alone (R = I, L = A): Δ₂² = 1, but release k sums k noises.
        public static func increments(horizon: Int) throws(PrivacyError) -> Encoder {
            try Encoder(coefficients: [1] + [Int64](repeating: 0, count: max(horizon - 1, 0)))
        }
    }

    /// The decoder's first column ℓ for `encoder`: L = A·R⁻¹, so that L·R = A. R⁻¹ is the
    /// Toeplitz matrix of the power-series inverse u of r (u₀ = 1/r₀, uₘ = −Σᵢ₌₁ᵐ rᵢ·uₘ₋ᵢ / r₀) and
    /// multiplying by A takes running sums: ℓₘ = u₀ + … + uₘ. Post-processing: floating point.
    public static func decoder(_ encoder: Encoder) -> [Double] {
        let r = encoder.coefficients.map(Double.init)
        var u = [Double](repeating: 0, count: r.count)
        for m in 0..<r.count {
            var s = m == 0 ? 1.0 : 0.0
            for i in stride(from: 1, through: m, by: 1) { s -= r[i] * u[m - i] }
            u[m] = s / r[0]
        }
        var l = [Double](repeating: 0, count: r.count)
        var acc = 0.0
        for m in 0..<r.count {
            acc += u[m]
            l[m] = acc
        }
        return l
    }

    /// The noise that spends exactly `rho` over the whole schedule of `encoder`:
    /// N_ℤ(0, σ²) with σ² = Δ₂²/(2ρ) for Δ₂² = ``Encoder/sensitivitySquared``.
    public static func mechanism(_ encoder: Encoder, lifetimeRho rho: Rational) throws(PrivacyError) -> DiscreteGaussianMechanism {
        try DiscreteGaussianMechanism(rho: rho, l2SensitivitySquared: Rational(integer: encoder.sensitivitySquared))
    }

    /// What release `step` (1 … T) of the schedule costs under lifetime ρ: ρ·r²₍step−1₎/Δ₂², exact.
    /// The costs of the T releases add up to ρ; after k releases the spend is what the first k rows
    /// of the encoder alone would cost.
    public static func cost(_ encoder: Encoder, lifetimeRho rho: Rational, step: Int) throws(PrivacyError) -> Rational {
        guard (1...encoder.horizon).contains(step) else {
            throw .parameterOutOfRange(what: "continual release step", reason: "must be 1 to \(encoder.horizon), got \(step)")
        }
        let r = encoder.coefficients[step - 1]
        return try rho.multiplied(by: Rational(r * r, encoder.sensitivitySquared))
    }

    /// The variance of the published running total at release `step` (1 … T) under lifetime ρ:
    /// σ² · Σ_{m<step} ℓₘ² (the discrete Gaussian's variance is below σ², CKS 2020 Cor. 9, so this
    /// is a slight over-statement, on the safe side for intervals).
    public static func variance(_ encoder: Encoder, lifetimeRho rho: Double, step: Int) -> Double {
        let l = decoder(encoder)
        let sigma2 = Double(encoder.sensitivitySquared) / (2 * rho)
        var s = 0.0
        for m in 0..<min(max(step, 0), l.count) { s += l[m] * l[m] }
        return sigma2 * s
    }

    /// The encoded value of one cell at release k (its increments x₁ … xₖ, k = `increments.count`):
    /// wₖ = Σⱼ r₍ₖ₋ⱼ₎·xⱼ + Zₖ with Zₖ drawn exactly from `mechanism`. The only step that reads data.
    public static func encode(
        increments: [Int64], encoder: Encoder, mechanism: DiscreteGaussianMechanism, using bits: inout RandomBits
    ) throws(PrivacyError) -> Int64 {
        let k = increments.count
        guard (1...encoder.horizon).contains(k) else {
            throw .parameterOutOfRange(what: "continual release step", reason: "must be 1 to \(encoder.horizon), got \(k)")
        }
        var acc: Int64 = 0
        for j in 0..<k {
            let (p, o1) = encoder.coefficients[k - 1 - j].multipliedReportingOverflow(by: increments[j])
            let (s, o2) = acc.addingReportingOverflow(p)
            if o1 || o2 { throw .arithmeticOverflow(what: "continual release encoding") }
            acc = s
        }
        let (w, o) = acc.addingReportingOverflow(try mechanism.sampleNoise(using: &bits))
        if o { throw .countOverflow(index: k - 1) }
        return w
    }

    /// The published running totals Ŝ₁ … Ŝₖ from the encoded values w₁ … wₖ of one cell
    /// (post-processing): Ŝᵢ = Σⱼ≤ᵢ ℓ₍ᵢ₋ⱼ₎·wⱼ. Unbiased; the variance of Ŝᵢ is ``variance(_:lifetimeRho:step:)``.
    public static func runningTotals(encoded w: [Int64], encoder: Encoder) -> [Double] {
        let l = decoder(encoder)
        return (0..<min(w.count, l.count)).map { i in
            var s = 0.0
            for j in 0...i { s += l[i - j] * Double(w[j]) }
            return s
        }
    }
}
