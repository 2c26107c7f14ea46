import Foundation
import PlazoModel
import PlazoPrivacy

/// The schedule of one continual table (`"continual": true`, `docs/privacy-model.md` §4a): each
/// cohort's charge bands are one stream of `horizon` releases under the square-root
/// factorization (``ContinualCounting``), and its size N is measured once, at its first release.
///
/// **Budget.** The spec's `rho` is the table's average per release, so a cohort's lifetime ρ for
/// the table is `rho × horizon`: what an even split over the same schedule would spend, which is
/// what `releases_per_cohort` checks against the cohort's budget. A twentieth of it measures N (at
/// step 1, Gaussian, sensitivity 1); the other nineteen twentieths are the bands' stream, whose
/// step k costs ρ_bands·r²₍ₖ₋₁₎/Δ₂² (front-loaded: 58 % of the stream at step 1 when T = 8).
///
/// Why a twentieth: the published running totals then have variance 1.48/(0.95·ρ_L) = 1.56/ρ_L
/// at T = 8, against 4/ρ_L for an even split: 2.57 times lower. A share C/N has variance
/// ≈ (Var C + p²·Var N)/N², smallest near ρ_N/ρ_bands = √(p²/2 / (3·1.48)) ≈ 0.1 for p ≈ 0.3 at
/// 365 days; a twentieth is within 4 % of that optimum. (Shares gain less than counts: under an
/// even split the noise of C and N is correlated, which a separately measured N gives up; at
/// p ≈ 0.3 a share's variance falls by about 1.2 times, `docs/privacy-model.md` §4a.)
///
/// **Charging exactly.** The ledger counts fixed-point units (``RhoUnits``). Rounding each step
/// up on its own could charge the schedule more than its lifetime ρ; so step k is charged the
/// cumulative spend after k steps rounded up, minus that after k − 1 steps rounded up. After any
/// k steps the ledger holds at least the exact spend (never under-charged), and after the last it
/// holds exactly `rho × horizon` whenever that is representable (as every usual ρ is).
public struct ContinualSchedule: Sendable, Hashable {
    /// Releases per cohort T.
    public var horizon: Int
    /// A cohort's lifetime ρ for the table: `rho × T`.
    public var lifetimeRho: Rational
    /// The part measuring the cohort's size N once: a twentieth.
    public var sizeRho: Rational
    /// The part of the bands' stream: nineteen twentieths.
    public var bandRho: Rational
    /// The encoder (square-root factorization of the prefix sums, scaled to integers).
    public var encoder: ContinualCounting.Encoder

    /// The schedule of a table costing `rho` per release on average over `horizon` releases.
    public init(horizon: Int, perRelease rho: Rational) throws(PrivacyError) {
        self.horizon = horizon
        lifetimeRho = try rho.multiplied(by: Rational(integer: Int64(horizon)))
        sizeRho = try lifetimeRho.divided(by: Rational(integer: 20))
        bandRho = try lifetimeRho.subtracting(sizeRho)
        encoder = try .squareRoot(horizon: horizon)
    }

    /// The ledger units a cohort is charged at step `step` (1 … T) for this table (see above).
    public func charge(step: Int) throws(PrivacyError) -> RhoUnits {
        guard (1...horizon).contains(step) else {
            throw .parameterOutOfRange(what: "continual release step", reason: "must be 1 to \(horizon), got \(step)")
        }
        let bands = try cumulativeBandUnits(after: step) - cumulativeBandUnits(after: step - 1)
        let size = step == 1 ? try RhoUnits.charging(sizeRho).units : 0
        return RhoUnits(units: bands + size)
    }

    /// ⌈ρ_bands · Σ_{m<k} r²ₘ / Δ₂²⌉ in ledger units (exact, in 128-bit integers).
    func cumulativeBandUnits(after k: Int) throws(PrivacyError) -> Int64 {
        var head: Int64 = 0
        for m in 0..<max(0, min(k, horizon)) { head += encoder.coefficients[m] * encoder.coefficients[m] }
        let numerator = Int128(bandRho.numerator) * Int128(head) * Int128(RhoUnits.unitsPerRho)
        let denominator = Int128(bandRho.denominator) * Int128(encoder.sensitivitySquared)
        let (q, r) = numerator.quotientAndRemainder(dividingBy: denominator)
        guard let units = Int64(exactly: r != 0 ? q + 1 : q) else { throw .arithmeticOverflow(what: "continual release charge") }
        return units
    }

    /// The noise of the bands' stream: N_ℤ(0, σ²) with σ² = Δ₂²/(2ρ_bands).
    func bandMechanism() throws(PrivacyError) -> DiscreteGaussianMechanism {
        try ContinualCounting.mechanism(encoder, lifetimeRho: bandRho)
    }

    /// The noise of the size: N_ℤ(0, 1/(2ρ_N)) (sensitivity 1: a case is in one breakdown group).
    func sizeMechanism() throws(PrivacyError) -> DiscreteGaussianMechanism {
        try DiscreteGaussianMechanism(rho: sizeRho)
    }

    /// The variance of a band cell's published running total at step `step`.
    public func bandVariance(step: Int) -> Double {
        ContinualCounting.variance(encoder, lifetimeRho: bandRho.doubleValue, step: step)
    }

    /// The variance of the published size.
    public var sizeVariance: Double {
        let s2 = (try? Rational(1).divided(by: sizeRho.multiplied(by: Rational(integer: 2)))) ?? .one
        return Accuracy.discreteGaussianVariance(sigmaSquared: s2)
    }
}

extension ReleaseSpec {
    /// Resolves and checks a table's `"continual": true` (table `i`, per-release `cost`): only
    /// `charge_by_horizon`, whose cases enter a band once; with the Gaussian mechanism; with a
    /// schedule (`releases_per_cohort`, at most ``ContinualCounting/maxHorizon``); not pooled by year
    /// (each quarter is its own stream); and every cohort's quarter over by the cutoff (its size is
    /// measured once, when every report of the quarter can be in).
    func continualSchedule(
        _ t: TableRequest, index i: Int, cost: PrivacyCost, quarters: [Quarter], cutoff: Day, mechanism: ReleaseMechanism
    ) throws(ReleaseError) -> ContinualSchedule {
        let field = "tables[\(i)].continual"
        guard t.table == .chargeByHorizon else {
            throw .invalidSpec("\(field): only charge_by_horizon can be released continually (a case enters one of its bands once, when its charge is seen; the other tables' cases move between cells)")
        }
        guard mechanism == .discreteGaussian else { throw .invalidSpec("\(field): a continual table needs the discrete_gaussian mechanism") }
        guard let n = self.releasesPerCohort else {
            throw .invalidSpec("\(field): give releases_per_cohort, the number of releases of each cohort's stream (8 for two years of quarters)")
        }
        guard n <= ContinualCounting.maxHorizon else {
            throw .invalidSpec("\(field): a stream has at most \(ContinualCounting.maxHorizon) releases; releases_per_cohort is \(n)")
        }
        guard t.poolCohorts == nil else {
            throw .invalidSpec("\(field): a continual table cannot also pool cohorts (tables[\(i)].pool_cohorts); each quarter is its own stream")
        }
        if let open = quarters.first(where: { ($0.lastDay ?? cutoff) > cutoff }) {
            throw .invalidSpec("\(field): cohort \(open) is not over by the cutoff \(cutoff.iso); a continual table measures a cohort's size once, so name only quarters that have ended")
        }
        do {
            return try ContinualSchedule(horizon: n, perRelease: cost.rho())
        } catch { throw .invalidSpec("\(field): \(error)") }
    }
}

/// What a released continual table says about its streams (in ``ReleasedTableInfo/continual``):
/// enough to check every published figure from the encoded values alone.
public struct ContinualTableInfo: Sendable, Codable, Hashable {
    /// One cohort's stream at this release.
    public struct Cohort: Sendable, Codable, Hashable {
        /// The cohort (`2025Q1`).
        public var cohort: String
        /// This release's step in the cohort's stream (1 … horizon).
        public var step: Int
        /// What this step charged the cohort for this table, exact.
        public var chargedRho: String
        /// The variance of every band cell's published running total.
        public var bandVariance: Double
        /// The variance of the published size N̂ (measured at step 1).
        public var sizeVariance: Double
        /// Standard deviation of each of the group's five cells as published (bands rounded to
        /// integers; cells no case can occupy yet are 0 with no noise; `not_by_730` = N̂ − Σ bands).
        public var cellStandardDeviations: [Double]
        /// The encoded values w₁ … w_step, one array per step, each with 4 band cells per
        /// breakdown group (the public history a later release decodes from).
        public var encoded: [[Int64]]
        /// The noisy sizes N̂, one per breakdown group.
        public var sizes: [Int64]

        enum CodingKeys: String, CodingKey {
            case cohort, step, encoded, sizes
            case chargedRho = "charged_rho", bandVariance = "band_variance", sizeVariance = "size_variance"
            case cellStandardDeviations = "cell_standard_deviations"
        }
    }

    /// Releases per cohort T.
    public var horizon: Int
    /// A cohort's lifetime ρ for the table.
    public var lifetimeRho: String
    /// The part measuring the size once.
    public var sizeRho: String
    /// The part of the bands' stream.
    public var bandRho: String
    /// The encoder's first column (integers; R is lower-triangular Toeplitz).
    public var encoder: [Int64]
    /// The decoder's first column ℓ (L = A·R⁻¹): Ŝₖ = Σⱼ ℓ₍ₖ₋ⱼ₎·wⱼ.
    public var decoder: [Double]
    /// Per cohort of the release, in order.
    public var cohorts: [Cohort]

    enum CodingKeys: String, CodingKey {
        case horizon, encoder, decoder, cohorts
        case lifetimeRho = "lifetime_rho", sizeRho = "size_rho", bandRho = "band_rho"
    }
}
