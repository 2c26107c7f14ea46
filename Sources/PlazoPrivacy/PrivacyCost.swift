import Foundation

/// The privacy cost of one mechanism invocation, in the definition it was proved under.
///
/// - `pureDP(epsilon:)`: ε-differential privacy (Dwork, McSherry, Nissim & Smith 2006).
/// - `zCDP(rho:)`: ρ-zero-concentrated differential privacy (Bun & Steinke 2016).
///
/// The ledger accounts in ρ: ε-DP implies (ε²/2)-zCDP (Bun & Steinke 2016, Proposition 1.4), and
/// zCDP composes additively (ibid., Lemma 1.7), so every cost converts exactly to a ρ.
public enum PrivacyCost: Sendable, Hashable, Codable, CustomStringConvertible {
    /// ε-DP with an exact rational ε.
    case pureDP(epsilon: Rational)
    /// ρ-zCDP with an exact rational ρ.
    case zCDP(rho: Rational)

    /// The equivalent zCDP parameter, exactly: ρ itself, or ε²/2 for pure DP.
    public func rho() throws(PrivacyError) -> Rational {
        switch self {
        case let .zCDP(rho): return rho
        case let .pureDP(epsilon): return try epsilon.multiplied(by: epsilon).divided(by: Rational(integer: 2))
        }
    }

    /// The (ε, δ)-DP guarantee implied at a given δ (post-hoc reporting; floating point, rounded up).
    /// Pure ε-DP is (ε, 0)-DP, hence (ε, δ)-DP for every δ; the zCDP conversion is
    /// ``ZCDP/epsilon(rho:delta:)``, which for the same mechanism may be smaller or larger.
    public func approximateDP(delta: Double) -> Double {
        switch self {
        case let .pureDP(epsilon): epsilon.doubleValue
        case let .zCDP(rho): ZCDP.epsilon(rho: rho.doubleValue, delta: delta)
        }
    }

    /// Costs add up under sequential composition in zCDP (Bun & Steinke 2016, Lemma 1.7): the total
    /// of several costs is the ρ-sum, exact.
    public static func totalRho(_ costs: [PrivacyCost]) throws(PrivacyError) -> Rational {
        var sum = Rational.zero
        for c in costs { sum = try sum.adding(c.rho()) }
        return sum
    }

    /// A human-readable form.
    public var description: String {
        switch self {
        case let .pureDP(epsilon): "ε=\(epsilon) (pure DP)"
        case let .zCDP(rho): "ρ=\(rho) (zCDP)"
        }
    }
}

/// Conversions between zCDP and (ε, δ)-DP. These are reporting tools (the ledger never uses them),
/// so floating point is acceptable; every result is rounded in the conservative direction.
public enum ZCDP {
    /// The smallest ε such that ρ-zCDP implies (ε, δ)-DP by the tight conversion of Canonne, Kamath
    /// & Steinke 2020, Corollary 13 (also Asoodeh et al. 2021):
    ///
    ///     ε(δ) = inf_{α>1}  αρ + (log(1/δ) + (α−1)·log(1 − 1/α) − log α) / (α − 1)
    ///
    /// Any α gives a valid bound, so an imperfect numerical minimisation can only make ε larger
    /// (safe). The minimum is found by golden-section search on log(α − 1) after a coarse scan,
    /// and the result is rounded up by a relative 1e-9 to cover floating-point error. It is never
    /// larger than the classical bound ρ + 2√(ρ·log(1/δ)) (Bun & Steinke 2016, Proposition 1.3).
    ///
    /// Degenerate inputs do not trap: δ ≥ 1 gives 0 (every mechanism is (0, 1)-DP), δ ≤ 0 with ρ > 0
    /// gives +∞ (zCDP implies no pure DP), and a negative, infinite or NaN ρ gives +∞ (no guarantee).
    public static func epsilon(rho: Double, delta: Double) -> Double {
        guard rho >= 0, rho.isFinite, !delta.isNaN else { return .infinity }
        if rho == 0 || delta >= 1 { return 0 }
        if delta <= 0 { return .infinity }
        let logInvDelta = -log(delta)
        func bound(_ alpha: Double) -> Double {
            alpha * rho + (logInvDelta + (alpha - 1) * log1p(-1 / alpha) - log(alpha)) / (alpha - 1)
        }
        let best = minimise(bound)
        let classical = rho + 2 * (rho * logInvDelta).squareRoot()
        return max(0, min(best, classical) * (1 + 1e-9))
    }

    /// The smallest δ for which ρ-zCDP implies (ε, δ)-DP (CKS 2020, Proposition 12 / Corollary 13):
    ///
    ///     δ(ε) = inf_{α>1}  exp((α−1)(αρ − ε)) / (α − 1) · (1 − 1/α)^α
    ///
    /// minimised in log space, rounded up by a relative 1e-9, capped at 1.
    ///
    /// Degenerate inputs do not trap: a negative, infinite or NaN ρ, or a NaN or negative ε, gives 1
    /// (no guarantee); ε = +∞ gives 0.
    public static func delta(rho: Double, epsilon: Double) -> Double {
        guard rho >= 0, rho.isFinite, !epsilon.isNaN, epsilon >= 0 else { return 1 }
        if rho == 0 || epsilon == .infinity { return 0 }
        func logDelta(_ alpha: Double) -> Double {
            (alpha - 1) * (alpha * rho - epsilon) - log(alpha - 1) + alpha * log1p(-1 / alpha)
        }
        return min(1, exp(minimise(logDelta)) * (1 + 1e-9))
    }

    /// The zCDP parameter implied by ε-DP: ρ = ε²/2 (Bun & Steinke 2016, Proposition 1.4), exactly.
    public static func rho(fromPureDP epsilon: Rational) throws(PrivacyError) -> Rational {
        try PrivacyCost.pureDP(epsilon: epsilon).rho()
    }

    /// Minimises `f` over α ∈ (1, 1 + e^20]: a scan over log(α − 1), then golden-section search
    /// around the best scanned point. Returns the smallest value seen (any value is a valid bound).
    static func minimise(_ f: (Double) -> Double) -> Double {
        var bestX = -20.0
        var bestV = Double.infinity
        var x = -20.0
        while x <= 20 {
            let v = f(1 + exp(x))
            if v < bestV { bestV = v; bestX = x }
            x += 0.05
        }
        var lo = bestX - 0.05, hi = bestX + 0.05
        let g = (5.0.squareRoot() - 1) / 2
        for _ in 0..<100 {
            let a = hi - g * (hi - lo), b = lo + g * (hi - lo)
            let fa = f(1 + exp(a)), fb = f(1 + exp(b))
            bestV = min(bestV, fa, fb)
            if fa < fb { hi = b } else { lo = a }
        }
        return bestV
    }
}

/// A zCDP amount in the ledger's fixed-point unit: an integer count of 1/``unitsPerRho``.
///
/// Why fixed point: sums of arbitrary rationals grow their denominators without bound, while the
/// ledger must add thousands of spends exactly and let SQLite sum them. The unit divides every
/// denominator of the form 2^a·3^b·5^c·7·11·13 with a ≤ 12, b ≤ 2, c ≤ 9 (all of 1..16, powers of
/// ten up to 10^8, 1024), so typical costs (ρ = 1/2, 1/8, 1/3, 1/1000, 1/(2·1000²)…) are represented
/// exactly. Any other cost is rounded **up** and any budget **down**, by less than 1.4·10⁻¹⁴, so
/// the ledger never under-charges. Capacity: about 1.28·10⁵ in ρ.
public struct RhoUnits: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Units in one ρ = 720720 · 10^8 = 2^12·3^2·5^9·7·11·13 (720720 = lcm(1, …, 16)).
    public static let unitsPerRho: Int64 = 72_072_000_000_000

    /// The raw count of units.
    public let units: Int64

    /// Wraps a raw count (from the database).
    public init(units: Int64) { self.units = units }

    /// A cost: ρ rounded up to the next unit.
    public static func charging(_ rho: Rational) throws(PrivacyError) -> RhoUnits {
        try convert(rho, roundingUp: true)
    }

    /// A budget: ρ rounded down to the unit below.
    public static func budget(_ rho: Rational) throws(PrivacyError) -> RhoUnits {
        try convert(rho, roundingUp: false)
    }

    static func convert(_ rho: Rational, roundingUp: Bool) throws(PrivacyError) -> RhoUnits {
        guard rho.numerator >= 0 else {
            throw .parameterOutOfRange(what: "ρ", reason: "must be ≥ 0, got \(rho)")
        }
        let scaled = Int128(rho.numerator) * Int128(unitsPerRho)
        let (q, r) = scaled.quotientAndRemainder(dividingBy: Int128(rho.denominator))
        let value = roundingUp && r != 0 ? q + 1 : q
        guard let units = Int64(exactly: value) else { throw .arithmeticOverflow(what: "ρ in ledger units") }
        return RhoUnits(units: units)
    }

    /// True when the amount equals `rho` exactly (no rounding happened).
    public func isExactly(_ rho: Rational) -> Bool {
        Int128(units) * Int128(rho.denominator) == Int128(rho.numerator) * Int128(Self.unitsPerRho)
    }

    /// The amount as an exact rational.
    public var rho: Rational {
        // units / unitsPerRho always fits: both are Int64.
        (try? Rational(units, Self.unitsPerRho)) ?? .zero
    }

    /// Checked sum.
    public func adding(_ other: RhoUnits) throws(PrivacyError) -> RhoUnits {
        let (v, o) = units.addingReportingOverflow(other.units)
        if o { throw .arithmeticOverflow(what: "ledger total") }
        return RhoUnits(units: v)
    }

    /// Orders by value.
    public static func < (lhs: RhoUnits, rhs: RhoUnits) -> Bool { lhs.units < rhs.units }

    /// The value as an exact fraction in lowest terms, e.g. `1/2`.
    public var description: String { rho.description }

    /// The exact fraction, followed by a 6-significant-digit decimal when the fraction is long.
    public var displayDescription: String {
        let r = rho
        if r.denominator <= 10_000 { return r.description }
        return "\(r) (≈\(String(format: "%.6g", r.doubleValue)))"
    }

    enum CodingKeys: String, CodingKey { case units, rho }

    /// Decodes `{"units": N}` (the `rho` field, if present, is informational).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        units = try c.decode(Int64.self, forKey: .units)
    }

    /// Encodes `{"units": N, "rho": "n/d"}` so that JSON readers see the exact ρ.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(units, forKey: .units)
        try c.encode(rho.description, forKey: .rho)
    }
}
