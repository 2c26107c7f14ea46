import Foundation
@_spi(Testing) import PlazoPrivacy

// Statistical helpers for the distribution tests. All tests use fixed seeds, so they are
// deterministic; the thresholds are still derived from the distributions (stated beside each use)
// so that a pass means "consistent with the exact pmf at a stated significance".

/// Upper quantile of χ²_k at upper-tail probability p, by the Wilson–Hilferty approximation
/// χ² ≈ k·(1 − 2/(9k) + z·√(2/(9k)))³ with z the standard normal upper quantile; accurate to a
/// few percent for k ≥ 3, which is immaterial at p = 1e-4 (z = 3.719).
func chiSquaredCritical(degreesOfFreedom k: Int, z: Double = 3.719) -> Double {
    let kk = Double(k)
    let a = 2 / (9 * kk)
    return kk * pow(1 - a + z * a.squareRoot(), 3)
}

struct ChiSquaredResult: CustomStringConvertible {
    var statistic: Double
    var degreesOfFreedom: Int
    var critical: Double
    var passes: Bool { statistic <= critical }
    var description: String { "χ²=\(statistic) df=\(degreesOfFreedom) critical(p=1e-4)=\(critical)" }
}

/// Pearson χ² of integer samples against a pmf. Values are grouped into bins of `binWidth`
/// consecutive integers over [−range, range]; everything beyond goes to the two outermost bins
/// (their expected mass is 1 minus the inner mass, so the bins cover all of ℤ). Adjacent bins are
/// merged until each has expected count ≥ 5 (the usual validity condition for Pearson's test).
func chiSquared(samples: [Int64], pmf: (Int64) -> Double, range: Int64, binWidth: Int64 = 1) -> ChiSquaredResult {
    let n = Double(samples.count)
    let lo = -range, hi = range
    let binCount = Int((hi - lo) / binWidth) + 1
    func bin(_ x: Int64) -> Int { x <= lo ? 0 : x >= hi ? binCount - 1 : Int((x - lo) / binWidth) }
    var observed = [Double](repeating: 0, count: binCount)
    for x in samples { observed[bin(x)] += 1 }
    var expected = [Double](repeating: 0, count: binCount)
    var inner = 0.0
    var x = lo + 1
    while x < hi {
        let p = pmf(x)
        expected[bin(x)] += p
        inner += p
        x += 1
    }
    // Split the remaining mass between the two tail bins by symmetry of the noise distributions.
    let tail = max(0, 1 - inner) / 2
    expected[0] += tail
    expected[binCount - 1] += tail
    // Merge small bins.
    var mergedO: [Double] = [], mergedE: [Double] = []
    var accO = 0.0, accE = 0.0
    for i in 0..<binCount {
        accO += observed[i]; accE += expected[i] * n
        if accE >= 5 { mergedO.append(accO); mergedE.append(accE); accO = 0; accE = 0 }
    }
    if accE > 0 || accO > 0 {
        if mergedE.isEmpty { mergedO.append(accO); mergedE.append(accE) } else {
            mergedO[mergedO.count - 1] += accO; mergedE[mergedE.count - 1] += accE
        }
    }
    var stat = 0.0
    for i in mergedO.indices { stat += (mergedO[i] - mergedE[i]) * (mergedO[i] - mergedE[i]) / mergedE[i] }
    let df = mergedO.count - 1
    return ChiSquaredResult(statistic: stat, degreesOfFreedom: df, critical: chiSquaredCritical(degreesOfFreedom: df))
}

/// Moments of a symmetric integer distribution from its pmf, summed over [−range, range].
func moments(pmf: (Int64) -> Double, range: Int64) -> (variance: Double, fourth: Double) {
    var v = 0.0, f = 0.0
    var x = -range
    while x <= range {
        let p = pmf(x), dx = Double(x)
        v += p * dx * dx
        f += p * dx * dx * dx * dx
        x += 1
    }
    return (v, f)
}

func sampleMeanAndVariance(_ xs: [Int64]) -> (mean: Double, variance: Double) {
    let n = Double(xs.count)
    var s = 0.0
    for x in xs { s += Double(x) }
    let mean = s / n
    var v = 0.0
    for x in xs { v += (Double(x) - mean) * (Double(x) - mean) }
    return (mean, v / (n - 1))
}
