import Foundation
import PlazoPrivacy
import Testing

@Suite("Privacy costs and conversions")
struct AccountingTests {
    @Test("Mechanism costs are exact rationals")
    func costs() throws {
        // Discrete Gaussian: ρ = Δ₂²/(2σ²).
        let g = try DiscreteGaussianMechanism(sigmaSquared: Rational(9, 4))
        #expect(g.cost == .zCDP(rho: try Rational(2, 9)))
        let g2 = try DiscreteGaussianMechanism(rho: Rational(1, 2))
        #expect(g2.sigmaSquared == .one)
        let g3 = try DiscreteGaussianMechanism(rho: Rational(1, 8), l2SensitivitySquared: Rational(integer: 3))
        #expect(g3.sigmaSquared == Rational(integer: 12))
        #expect(g3.cost == .zCDP(rho: try Rational(1, 8)))
        // Discrete Laplace: ε = Δ₁/b.
        let l = try DiscreteLaplaceMechanism(scale: Rational(3, 2))
        #expect(l.cost == .pureDP(epsilon: try Rational(2, 3)))
        let l2 = try DiscreteLaplaceMechanism(epsilon: Rational(1, 10), l1Sensitivity: Rational(integer: 2))
        #expect(l2.scale == Rational(integer: 20))
    }

    @Test("ε-DP ⇒ ε²/2-zCDP, exactly")
    func pureToZCDP() throws {
        #expect(try PrivacyCost.pureDP(epsilon: Rational(integer: 1)).rho() == Rational(1, 2))
        #expect(try ZCDP.rho(fromPureDP: Rational(2, 3)) == Rational(2, 9))
        #expect(try PrivacyCost.totalRho([.pureDP(epsilon: Rational(1, 10)), .zCDP(rho: Rational(1, 8))]) == Rational(13, 100))
    }

    /// Reference values from OpenDP 0.16.0 (`make_zCDP_to_approxDP(make_gaussian(...)).map(1).epsilon(δ)`,
    /// which implements the same CKS 2020 bound), printed by `Benchmarks/opendp_compare.py`.
    static let openDPReference: [(rho: Double, delta: Double, epsilon: Double)] = [
        (0.5, 1e-6, 5.2215344445301701),
        (0.1, 1e-5, 1.9142388320035979),
        (1.0, 1e-9, 9.521463671792235),
        (0.01, 1e-6, 0.62169265455960265),
        (2.0, 1e-6, 11.688596249354896),
    ]

    @Test("ρ-zCDP ⇒ (ε, δ)-DP matches OpenDP and beats the classical bound")
    func zcdpToApprox() throws {
        for r in Self.openDPReference {
            let e = ZCDP.epsilon(rho: r.rho, delta: r.delta)
            // Never below the reference by more than float noise (that would be unsafe), and at most
            // 1e-6 relative above it (rounding up by 1e-9 plus search tolerance).
            #expect(e >= r.epsilon * (1 - 1e-12), "ρ=\(r.rho) δ=\(r.delta): \(e) < \(r.epsilon)")
            #expect(e <= r.epsilon * (1 + 1e-6), "ρ=\(r.rho) δ=\(r.delta): \(e) vs \(r.epsilon)")
            // Bun & Steinke 2016, Proposition 1.3: ε = ρ + 2√(ρ log(1/δ)) is valid but looser.
            #expect(e < r.rho + 2 * (r.rho * log(1 / r.delta)).squareRoot())
        }
    }

    @Test("δ(ε) and ε(δ) are consistent inverses")
    func deltaInverse() throws {
        for (rho, delta) in [(0.5, 1e-6), (0.1, 1e-5), (1.0, 1e-9)] {
            let e = ZCDP.epsilon(rho: rho, delta: delta)
            let d = ZCDP.delta(rho: rho, epsilon: e)
            #expect(d <= delta * 1.0001 && d >= delta * 0.99, "δ(ε(\(delta))) = \(d)")
        }
        #expect(ZCDP.epsilon(rho: 0, delta: 1e-6) == 0)
        // Degenerate inputs answer conservatively instead of trapping.
        #expect(ZCDP.epsilon(rho: 1, delta: 0) == .infinity)
        #expect(ZCDP.epsilon(rho: -1, delta: 1e-6) == .infinity)
        #expect(ZCDP.epsilon(rho: 1, delta: 1) == 0)
        #expect(ZCDP.delta(rho: .nan, epsilon: 1) == 1)
        #expect(ZCDP.delta(rho: 1, epsilon: .infinity) == 0)
        #expect(try PrivacyCost.pureDP(epsilon: Rational(1, 2)).approximateDP(delta: 1e-6) == 0.5)
    }

    @Test("Ledger units: exact for usual denominators, conservative otherwise")
    func rhoUnits() throws {
        for text in ["1/2", "1/8", "1/3", "1/1000", "1/2000000", "7/16", "1/1024", "2/9"] {
            let r = try Rational(parsing: text)
            #expect(try RhoUnits.charging(r).isExactly(r), "\(text)")
            #expect(try RhoUnits.charging(r) == RhoUnits.budget(r))
        }
        let odd = try Rational(1, 17)
        let charged = try RhoUnits.charging(odd), budget = try RhoUnits.budget(odd)
        #expect(!charged.isExactly(odd))
        #expect(charged.units == budget.units + 1)
        #expect(charged.rho > odd && budget.rho < odd)
        #expect(throws: PrivacyError.self) { try RhoUnits.charging(Rational(integer: 1_000_000)) }
    }

    @Test("Rationals parse exactly and refuse overflow")
    func rationals() throws {
        #expect(try Rational(parsing: "1.5") == Rational(3, 2))
        #expect(try Rational(parsing: " 3/2 ") == Rational(3, 2))
        #expect(try Rational(parsing: "0.001") == Rational(1, 1000))
        #expect(try Rational(parsing: "-6/4") == Rational(-3, 2))
        #expect(try Rational(parsing: "10") == Rational(integer: 10))
        #expect(try Rational(parsing: ".25") == Rational(1, 4))
        for bad in ["", "abc", "1/0", "1.2.3", "1e3", "/2", "99999999999999999999999999999", "."] {
            #expect(throws: PrivacyError.self, "\(bad)") { try Rational(parsing: bad) }
        }
        let big = Rational(integer: Int64.max)
        #expect(throws: PrivacyError.arithmeticOverflow(what: "rational sum")) { try big.adding(.one) }
        #expect(try Rational(1, 3).adding(Rational(1, 6)) == Rational(1, 2))
        #expect(Rational(integer: 1) > (try Rational(2, 3)))
        let json = try JSONEncoder().encode([try Rational(3, 2)])
        #expect(String(decoding: json, as: UTF8.self) == "[\"3\\/2\"]")
        #expect(try JSONDecoder().decode([Rational].self, from: json) == [try Rational(3, 2)])
    }

    @Test("Parameters that could overflow are refused with typed errors")
    func refusals() throws {
        #expect(throws: PrivacyError.self) { try DiscreteLaplaceSampler(scale: Rational(integer: 1 << 41)) }
        #expect(throws: PrivacyError.self) { try DiscreteLaplaceSampler(scale: Rational(1, 1 << 41)) }
        #expect(throws: PrivacyError.self) { try DiscreteLaplaceSampler(scale: Rational(integer: -1)) }
        #expect(throws: PrivacyError.self) { try DiscreteGaussianSampler(sigmaSquared: Rational(integer: 1 << 41)) }
        #expect(throws: PrivacyError.self) { try DiscreteGaussianSampler(sigmaSquared: .zero) }
        #expect(throws: PrivacyError.self) { try BernoulliSampler(probability: Rational(3, 2)) }
        #expect(throws: PrivacyError.self) { try BernoulliExpSampler(gamma: Rational(integer: -1)) }
        #expect(throws: PrivacyError.self) { try DiscreteGaussianMechanism(rho: .zero) }
        #expect(throws: PrivacyError.self) { try DiscreteLaplaceMechanism(epsilon: Rational(integer: -2)) }
        // The limits themselves are accepted.
        _ = try DiscreteLaplaceSampler(scale: Rational(integer: 1 << 40))
        _ = try DiscreteGaussianSampler(sigmaSquared: Rational(integer: 1 << 40))
        _ = try DiscreteGaussianSampler(sigmaSquared: Rational((1 << 40) - 1, 1 << 40))
    }

    @Test("Adding noise to a count near Int64.max is refused, not wrapped")
    func countOverflow() throws {
        var bits = try RandomBits.secure()
        let mech = try DiscreteLaplaceMechanism(scale: Rational(integer: 1000))
        // With scale 1000 the noise is non-zero and positive in about half the draws: try a few cells.
        let counts = [Int64](repeating: .max, count: 64)
        #expect(throws: PrivacyError.self) { _ = try mech.release(counts, using: &bits) }
    }
}
