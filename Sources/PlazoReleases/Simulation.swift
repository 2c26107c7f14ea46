import Foundation
import PlazoPrivacy
import PlazoRandom

/// xoshiro256** seeded through SplitMix64 (``Xoshiro256`` in `PlazoRandom`, whose tests pin its
/// output): the generator of the interval simulations.
///
/// The simulations re-draw noise from the **known, public** noise distribution around the already
/// published noisy counts; they read no data, so their randomness needs no secrecy (it is
/// post-processing). It must only be reproducible: each release stores the 64-bit seed it used
/// (drawn from libsodium's CSPRNG when the release is created), and pooled dashboard views derive
/// their seed deterministically from the release's seed and the query.
struct SimulationRNG {
    private var generator: Xoshiro256

    init(seed: UInt64) { generator = Xoshiro256(seed: seed) }

    @inline(__always) mutating func next() -> UInt64 { generator.next() }
}

/// Walker's alias table over the integer noise distribution truncated to [−M, M] (the mass beyond
/// is below 1e-20 for the chosen M), for O(1) draws in the simulations. Probabilities come from
/// the exact pmf (``Accuracy/discreteGaussianPMF(sigmaSquared:at:)``,
/// ``Accuracy/discreteLaplacePMF(scale:at:)``) evaluated in floating point: fine for estimating
/// interval widths, never used to protect anything.
struct NoiseTable: Sendable {
    let offset: Int64
    let probability: [Double]
    let alias: [Int32]
    /// The variance of the tabulated distribution (Σ p(z)·z² over [−M, M]).
    let variance: Double

    init(_ noise: NoiseDistribution, sumOf k: Int = 1) {
        let pmf: (Int64) -> Double
        let m: Int64
        switch noise {
        case let .discreteGaussian(sigmaSquared):
            // A sum of k independent discrete Gaussians is approximated by one with k·σ² (exact
            // for k = 1; for pooled cells the difference is far below the simulation error).
            let s2 = sigmaSquared.doubleValue * Double(k)
            let scaled = (try? Rational(Int64(min(s2 * 1_000_000, 9e15)), 1_000_000)) ?? sigmaSquared
            let exact = k == 1 ? sigmaSquared : scaled
            m = Int64((10 * s2.squareRoot()).rounded(.up)) + 2
            pmf = { Accuracy.discreteGaussianPMF(sigmaSquared: exact, at: $0) }
        case let .discreteLaplace(scale):
            if k == 1 {
                m = Int64((46 * scale.doubleValue).rounded(.up)) + 2
                pmf = { Accuracy.discreteLaplacePMF(scale: scale, at: $0) }
            } else {
                // Sum of k discrete Laplace: approximated by a discrete Gaussian of the same variance.
                let v = Accuracy.discreteLaplaceVariance(scale: scale) * Double(k)
                let r = (try? Rational(Int64(min(v * 1_000_000, 9e15)), 1_000_000)) ?? .one
                m = Int64((10 * v.squareRoot()).rounded(.up)) + 2
                pmf = { Accuracy.discreteGaussianPMF(sigmaSquared: r, at: $0) }
            }
        }
        let n = Int(2 * m + 1)
        var p = (0..<n).map { pmf(Int64($0) - m) }
        let total = p.reduce(0, +)
        var v = 0.0
        for i in p.indices { v += p[i] / total * Double((Int64(i) - m) * (Int64(i) - m)) }
        self.variance = v
        for i in p.indices { p[i] = p[i] / total * Double(n) }
        var small: [Int] = [], large: [Int] = []
        for i in 0..<n { if p[i] < 1 { small.append(i) } else { large.append(i) } }
        var prob = [Double](repeating: 1, count: n)
        var alias = [Int32](repeating: 0, count: n)
        for i in 0..<n { alias[i] = Int32(i) }
        while let s = small.popLast(), let l = large.last {
            prob[s] = p[s]
            alias[s] = Int32(l)
            p[l] -= 1 - p[s]
            if p[l] < 1 {
                large.removeLast()
                small.append(l)
            }
        }
        self.offset = m
        self.probability = prob
        self.alias = alias
    }

    @inline(__always) func draw(_ rng: inout SimulationRNG) -> Int64 {
        let r = rng.next()
        // Column from the high 32 bits, acceptance from the low 32 bits: independent.
        let i = Int(((r >> 32) &* UInt64(probability.count)) >> 32)
        let u = Double(UInt32(truncatingIfNeeded: r)) * 0x1p-32
        let j = u < probability[i] ? i : Int(alias[i])
        return Int64(j) - offset
    }
}

/// The standard normal quantile z with P(Z ≤ z) = p (bisection on erfc; used for interval widths).
func normalQuantile(_ p: Double) -> Double {
    var lo = -40.0, hi = 40.0
    for _ in 0..<200 {
        let mid = (lo + hi) / 2
        if 0.5 * erfc(-mid / 2.squareRoot()) < p { lo = mid } else { hi = mid }
    }
    return (lo + hi) / 2
}

/// Derived estimates of one group with their intervals (`docs/metrics.md` §4).
///
/// Method: with y the published noisy counts (structural zeros set to 0, see ``FollowUp``), the
/// interval is raw(y) ± z·SD, with raw the unclipped estimator (``Derivation/raw(_:_:_:horizons:)``)
/// and SD its standard deviation under the known noise: for the life tables by exact first-order
/// propagation (``Derivation/lifeTableStandardDeviations(_:_:possible:variance:horizons:into:)``),
/// for the other tables by a parametric bootstrap (R tables y + Z*, Z* from the mechanism's exact
/// noise distribution, only in cells a case can occupy). The interval is clipped to the feasible
/// range and widened, if ever needed, to contain the published (fitted) value.
///
/// Why this covers: the raw estimator is unbiased to first order (sums of unbiased counts, ratios
/// of them), and its noise is what the replicates reproduce; centring on it rather than on the
/// constrained fit avoids the shift a constraint gives near 0 or 1, and taking the spread of the
/// unclipped estimator avoids the too-narrow spread that clipping gives (both made the old intervals
/// under-cover). Re-centring on the noisy point instead of taking replicate percentiles avoids
/// noising the data twice (the old median interval's 57–83 % coverage).
///
/// Medians: the interval inverts the pointwise band of the survival curve (Brookmeyer & Crowley
/// 1982): low = the first day at which the band's lower edge reaches ½, high = the first day at
/// which its upper edge does (NaN = not within follow-up: unbounded). The point is the first day
/// the fitted curve reaches ½, and only within follow-up.
struct GroupSimulator {
    let kind: TableKind
    let layout: [EstimateDescriptor]
    let noise: NoiseTable
    let replicates: Int
    let z: Double
    let alpha: Double

    init(kind: TableKind, noise: NoiseTable, replicates: Int, confidence: Double) {
        self.kind = kind
        self.layout = Derivation.layout(kind)
        self.noise = noise
        self.replicates = replicates
        self.alpha = 1 - confidence
        self.z = normalQuantile(1 - (1 - confidence) / 2)
    }

    /// Writes value, low, high for each estimate (3 doubles per estimate, `out.count == 3·layout.count`).
    func run(
        _ counts: UnsafeBufferPointer<Int64>, followUp: FollowUp, rng: inout SimulationRNG, out: UnsafeMutableBufferPointer<Double>
    ) {
        let e = layout.count
        let cells = counts.count
        let possible = followUp.possibleCells(kind)
        var zeroed = [Int64](repeating: 0, count: cells)
        for i in 0..<cells where possible[i] { zeroed[i] = counts[i] }
        var raw = [Double](repeating: 0, count: e)
        zeroed.withUnsafeBufferPointer { y in raw.withUnsafeMutableBufferPointer { Derivation.raw(kind, y, $0) } }
        var fitted = [Double](repeating: .nan, count: e)
        zeroed.withUnsafeBufferPointer { Derivation.fit(kind, $0, raw: raw, followUp: followUp, &fitted) }

        // The spread of each published raw estimate: exact first-order propagation of the known
        // noise variance for the life tables, a simulation for the small tables.
        var spread = [Double](repeating: .nan, count: e)
        let horizons = (1..<TimeBins.count).filter { followUp.covers(horizon: TimeBins.edges[$0]) }.count
        if kind.isLifeTable && !Self.simulateLifeTables {
            zeroed.withUnsafeBufferPointer {
                Derivation.lifeTableStandardDeviations(kind, $0, possible: possible, variance: noise.variance, horizons: horizons, into: &spread)
            }
        } else {
            simulate(zeroed: zeroed, possible: possible, fitted: fitted, raw: raw, horizons: horizons, rng: &rng, spread: &spread)
        }
        for j in 0..<e {
            let (lo, hi) = Derivation.interval(fitted: fitted[j], raw: raw[j], spread: spread[j], unit: layout[j].unit, z: z)
            out[3 * j] = fitted[j]
            out[3 * j + 1] = lo
            out[3 * j + 2] = hi
        }
        if let medianAt = Derivation.medianIndex(kind) {
            // The survival curve and its band at the published edges, as values at day edges[k+1].
            let edges = Array(TimeBins.edges[1...])
            let n = edges.count
            var curve = [Double](repeating: .nan, count: n), lower = curve, upper = curve
            for k in 0..<n {
                let i = 3 * (1 + k)
                if kind == .timeToFirstDecision {
                    curve[k] = out[i]; lower[k] = out[i + 1]; upper[k] = out[i + 2]
                } else {
                    curve[k] = 1 - out[i]; lower[k] = 1 - out[i + 2]; upper[k] = 1 - out[i + 1]
                }
            }
            let point = Derivation.median(curve: curve, edges: edges)
            out[3 * medianAt] = point ?? .nan
            out[3 * medianAt + 1] = Derivation.median(curve: lower, edges: edges) ?? .nan
            out[3 * medianAt + 2] = point == nil ? .nan : Derivation.median(curve: upper, edges: edges) ?? .nan
        }
    }

    /// Whether life tables use the simulation too (tests compare the two methods).
    static let simulateLifeTables = false

    /// SD* of every published raw estimate over R replicates y + Z* (Z* from the exact noise
    /// distribution, only in cells a case can occupy). An estimate undefined in more than α/2 of the
    /// replicates (a non-positive noisy total) gets no spread, hence no interval.
    func simulate(
        zeroed: [Int64], possible: [Bool], fitted: [Double], raw: [Double], horizons: Int, rng: inout SimulationRNG,
        spread: inout [Double]
    ) {
        let e = layout.count
        let cells = zeroed.count
        var sum = [Double](repeating: 0, count: e)
        var sumSq = [Double](repeating: 0, count: e)
        var defined = [Int](repeating: 0, count: e)
        var replica = [Int64](repeating: 0, count: cells)
        var estimate = [Double](repeating: .nan, count: e)
        // Only cells a case can occupy get noise: the published estimator sets the others to 0.
        let noisyCells = (0..<cells).filter { possible[$0] }
        // Only published estimates need a spread (nothing past follow-up; medians use the band),
        // and the raw curves only up to the last published horizon.
        let active = (0..<e).filter { !fitted[$0].isNaN && !raw[$0].isNaN }
        let m = noise.probability.count
        for _ in 0..<replicates {
            noise.probability.withUnsafeBufferPointer { prob in
                noise.alias.withUnsafeBufferPointer { alias in
                    for i in noisyCells {
                        // Inlined alias draw (see NoiseTable.draw).
                        let r = rng.next()
                        let k = Int(((r >> 32) &* UInt64(m)) >> 32)
                        let u = Double(UInt32(truncatingIfNeeded: r)) * 0x1p-32
                        let j = u < prob[k] ? k : Int(alias[k])
                        replica[i] = zeroed[i] &+ (Int64(j) - noise.offset)
                    }
                }
            }
            replica.withUnsafeBufferPointer { r in
                estimate.withUnsafeMutableBufferPointer { Derivation.raw(kind, r, $0, horizons: horizons) }
            }
            for j in active {
                let v = estimate[j]
                if !v.isNaN {
                    sum[j] += v
                    sumSq[j] += v * v
                    defined[j] += 1
                }
            }
        }
        for j in active where Double(defined[j]) >= Double(replicates) * (1 - alpha / 2) && defined[j] > 1 {
            let n = Double(defined[j])
            let mean = sum[j] / n
            spread[j] = max(0, (sumSq[j] - n * mean * mean) / (n - 1)).squareRoot()
        }
    }
}
