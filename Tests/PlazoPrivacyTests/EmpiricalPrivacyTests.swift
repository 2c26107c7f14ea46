import Foundation
@_spi(Testing) import PlazoPrivacy
import Testing

/// An empirical privacy test in the spirit of Google's DP stochastic tester and of Ding, Wang,
/// Wang, Zhang & Kifer (2018), "Detecting violations of differential privacy" (CCS 2018).
///
/// Run a mechanism N times on two neighbouring inputs (a count of 0 and of 1: one case added),
/// and for a family of output events S (single values, thresholds {Y ≥ k}, {Y ≤ k}, parity)
/// compare the empirical probabilities. (ε, δ)-DP requires P₀(S) ≤ e^ε·P₁(S) + δ for every S and
/// both orders. The test declares a violation only when the evidence is significant:
///
///     lower(p̂₀) > e^ε·upper(p̂₁) + δ
///
/// with empirical-Bernstein confidence bounds (Maurer & Pontil 2009, Theorem 4)
///
///     p̂ ± ( √(2·V̂·L/N) + 7L/(3(N−1)) ),   V̂ = p̂(1 − p̂)·N/(N−1),   L = ln(8m/β)
///
/// for m events (a union bound over the 4m one-sided bounds) and β = 1e-6 the tolerated
/// false-alarm probability. (Bernstein rather than Hoeffding so that rare events, where the
/// density ratio of a Gaussian is largest, keep a margin proportional to their own size.) A correct mechanism is therefore flagged with probability at most 1e-6, and the
/// same test must flag deliberately broken mechanisms (below), which shows it can fail.
struct PrivacyTester {
    var samples = 300_000
    var beta = 1e-6

    struct Violation: CustomStringConvertible {
        var event: String
        var p0: Double, p1: Double, bound: Double
        var description: String { "\(event): \(p0) > e^ε·\(p1)+δ (margin-adjusted bound \(bound))" }
    }

    func violations(epsilon: Double, delta: Double, draw: (Int64, inout RandomBits) throws -> Int64) rethrows -> [Violation] {
        var bits0 = RandomBits.seededForTesting(0xD1FF_0000)
        var bits1 = RandomBits.seededForTesting(0xD1FF_0001)
        var h0: [Int64: Int] = [:], h1: [Int64: Int] = [:]
        for _ in 0..<samples {
            h0[try draw(0, &bits0), default: 0] += 1
            h1[try draw(1, &bits1), default: 0] += 1
        }
        let n = Double(samples)
        let keys = Set(h0.keys).union(h1.keys)
        let lo = keys.min()!, hi = keys.max()!
        var events: [(String, (Int64) -> Bool)] = [("odd", { $0 & 1 == 1 }), ("even", { $0 & 1 == 0 })]
        for k in max(lo, -40)...min(hi, 40) {
            events.append(("Y=\(k)", { $0 == k }))
            events.append(("Y≥\(k)", { $0 >= k }))
            events.append(("Y≤\(k)", { $0 <= k }))
        }
        let l = log(8 * Double(events.count) / beta)
        func margin(_ p: Double) -> Double {
            let v = p * (1 - p) * n / (n - 1)
            return (2 * v * l / n).squareRoot() + 7 * l / (3 * (n - 1))
        }
        var found: [Violation] = []
        for (name, s) in events {
            let p0 = Double(h0.reduce(0) { s($1.key) ? $0 + $1.value : $0 }) / n
            let p1 = Double(h1.reduce(0) { s($1.key) ? $0 + $1.value : $0 }) / n
            for (a, b, label) in [(p0, p1, "P0(\(name))"), (p1, p0, "P1(\(name))")] {
                let bound = exp(epsilon) * min(1, b + margin(b)) + delta
                if a - margin(a) > bound { found.append(Violation(event: label, p0: a, p1: b, bound: bound)) }
            }
        }
        return found
    }
}

@Suite("Empirical privacy (stochastic tester)")
struct EmpiricalPrivacyTests {
    let tester = PrivacyTester()

    @Test("Discrete Laplace mechanism: no violation of its claimed ε")
    func laplaceHolds() throws {
        let mech = try DiscreteLaplaceMechanism(epsilon: .one)
        let eps = try #require(Self.epsilon(mech.cost))
        let v = try tester.violations(epsilon: eps, delta: 0) { x, bits in try mech.release([x], using: &bits)[0] }
        #expect(v.isEmpty, "\(v.prefix(3))")
    }

    @Test("Discrete Gaussian mechanism: no violation of the (ε, δ) implied by its ρ")
    func gaussianHolds() throws {
        let mech = try DiscreteGaussianMechanism(rho: Rational(1, 2))
        guard case let .zCDP(rho) = mech.cost else { Issue.record("expected zCDP"); return }
        let delta = 1e-3
        let eps = ZCDP.epsilon(rho: rho.doubleValue, delta: delta)
        let v = try tester.violations(epsilon: eps, delta: delta) { x, bits in try mech.release([x], using: &bits)[0] }
        #expect(v.isEmpty, "\(v.prefix(3))")
    }

    @Test("The tester flags noise at half the scale the claimed ε needs")
    func flagsTooLittleNoise() throws {
        // Claims ε = 1 but uses scale 1/2, i.e. really ε = 2.
        let sampler = try DiscreteLaplaceSampler(scale: Rational(1, 2))
        let v = try tester.violations(epsilon: 1, delta: 0) { x, bits in try x + sampler.sample(using: &bits) }
        #expect(!v.isEmpty)
    }

    @Test("The tester flags a subtle leak: the true value released unnoised 5% of the time")
    func flagsLeak() throws {
        // Density ratio at Y = 0 becomes (0.05 + 0.95·0.462)/(0.95·0.170) ≈ 3.03 > e¹ ≈ 2.72.
        let sampler = try DiscreteLaplaceSampler(scale: .one)
        let leak = try BernoulliSampler(probability: Rational(1, 20))
        let v = try tester.violations(epsilon: 1, delta: 0) { x, bits in
            leak.sample(using: &bits) ? x : try x + sampler.sample(using: &bits)
        }
        #expect(!v.isEmpty)
    }

    @Test("The tester flags a Gaussian with σ² too small for its claimed ρ")
    func flagsSmallSigma() throws {
        // Claims ρ = 1/2 (σ² = 1) but uses σ² = 1/4 (really ρ = 2).
        let sampler = try DiscreteGaussianSampler(sigmaSquared: Rational(1, 4))
        let delta = 1e-3
        let eps = ZCDP.epsilon(rho: 0.5, delta: delta)
        let v = try tester.violations(epsilon: eps, delta: delta) { x, bits in try x + sampler.sample(using: &bits) }
        #expect(!v.isEmpty)
    }

    static func epsilon(_ cost: PrivacyCost) -> Double? {
        if case let .pureDP(e) = cost { return e.doubleValue }
        return nil
    }
}
