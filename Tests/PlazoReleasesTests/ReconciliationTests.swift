import Foundation
import PlazoCases
import PlazoModel
@_spi(Testing) import PlazoPrivacy
@_spi(Testing) @testable import PlazoReleases
import Testing

/// National and state tables that add up (issue 21, item 4).
@Suite struct ReconciliationTests {
    /// The target: spending a tenth of a table's ρ on the national table and the rest on the 33
    /// states, the reconciled national interval is at least 2 times narrower than summing states
    /// that had all of ρ, for at most 10 % more variance per state cell. Computed from the
    /// estimator's variances; the simulation below checks them.
    @Test func nationalTwiceAsNarrowForAtMostTenPercentMoreStateVariance() {
        let rho = 1.0 / 40, states = 33
        let allStates = 1 / (2 * rho)  // every state cell with all of ρ
        let v0 = 1 / (2 * 0.1 * rho), v1 = 1 / (2 * 0.9 * rho)
        let fit = Reconciliation.reconcile(
            parent: 0, parentVariance: v0, children: [Double](repeating: 0, count: states),
            childVariances: [Double](repeating: v1, count: states))
        let summedStates = (Double(states) * allStates).squareRoot()
        #expect(summedStates / fit.parent.standardDeviation >= 2)
        let stateVariance = fit.children[0].standardDeviation * fit.children[0].standardDeviation
        #expect(stateVariance <= 1.10 * allStates)
    }

    /// Exactly additive, unbiased, and with the stated standard deviations: 20,000 seeded
    /// simulations of one national cell and 33 state cells with exact discrete Gaussian noise.
    /// Thresholds: mean error within 4 standard errors; sample variance within ±6 % of the
    /// stated one (relative sd of a 20,000-draw sample variance is √(2/19999) = 1 %).
    @Test func additiveUnbiasedAndCalibrated() throws {
        let truth: [Int64] = (0..<33).map { Int64(($0 * 7) % 23) }
        let national = truth.reduce(0, +)
        let m0 = try DiscreteGaussianMechanism(rho: Rational(1, 200)), m1 = try DiscreteGaussianMechanism(rho: Rational(1, 40))
        let v0 = Accuracy.discreteGaussianVariance(sigmaSquared: m0.sigmaSquared)
        let v1 = Accuracy.discreteGaussianVariance(sigmaSquared: m1.sigmaSquared)
        var bits = RandomBits.seededForTesting(2104)
        let runs = 20_000
        var sum0 = 0.0, sq0 = 0.0, sum5 = 0.0, sq5 = 0.0
        var covered = 0, intervals = 0  // reconciled ± 1.96·std_dev, every cell of every run
        var stated: (Double, Double) = (0, 0)
        for _ in 0..<runs {
            let y0 = Double(national + (try m0.sampleNoise(using: &bits)))
            let y = try truth.map { Double($0 + (try m1.sampleNoise(using: &bits))) }
            let fit = Reconciliation.reconcile(parent: y0, parentVariance: v0, children: y, childVariances: [Double](repeating: v1, count: 33))
            #expect(abs(fit.children.reduce(0) { $0 + $1.value } - fit.parent.value) < 1e-6)
            for (cell, t) in zip([fit.parent] + fit.children, [national] + truth) {
                intervals += 1
                if abs(cell.value - Double(t)) <= 1.959964 * cell.standardDeviation { covered += 1 }
            }
            let e0 = fit.parent.value - Double(national), e5 = fit.children[5].value - Double(truth[5])
            sum0 += e0; sq0 += e0 * e0; sum5 += e5; sq5 += e5 * e5
            stated = (fit.parent.standardDeviation, fit.children[5].standardDeviation)
        }
        // Coverage of the published intervals, 95 ± 1.5 % (680,000 intervals, correlated within a
        // run; the per-run fraction's SD is about 0.04, so the mean's SE is 0.0003: a miss is real).
        let coverage = Double(covered) / Double(intervals)
        #expect(abs(coverage - 0.95) <= 0.015, "reconciled counts cover \(coverage)")
        let n = Double(runs)
        for (sum, sq, sd) in [(sum0, sq0, stated.0), (sum5, sq5, stated.1)] {
            let mean = sum / n, variance = sq / n - mean * mean
            #expect(abs(mean) < 4 * sd / n.squareRoot())
            #expect(abs(variance / (sd * sd) - 1) < 0.06, "variance \(variance) vs stated \(sd * sd)")
        }
    }

    /// In a release: the national table and its state breakdown are paired per kind, state cells
    /// sum to the national cell exactly, and the CSV and JSON publish both columns.
    @Test func releaseCountsAddUpAcrossStates() async throws {
        let cutoff = Day(iso: "2026-06-30")!
        let cohorts = ["2025Q3", "2025Q4"]
        let cases = Synthetic.summaries(count: 1200, cohorts: cohorts.map { Quarter($0)! }, cutoff: cutoff, seed: 4)
        let r = try await engine().create(
            spec: spec(cutoff: cutoff.iso, cohorts: cohorts, rho: "1/40", breakdowns: [[], [.state], [.state, .offence]], replicates: 20),
            requester: "tester", projection: CaseProjection(summaries: cases, cutoff: cutoff), randomness: seeded(4))
        let pairs = Reconciliation.pairs(r)
        #expect(pairs.count == TableKind.allCases.count)
        for (p, c) in pairs {
            #expect(r.tables[p].info.breakdown.isEmpty && r.tables[c].info.breakdown == [.state])
        }
        let cells = Reconciliation.cells(r)
        let p = table(r, .attrition), c = table(r, .attrition, [.state])
        let width = r.tables[p].info.cellLabels.count
        for cohort in 0..<cohorts.count {
            for cell in 0..<width {
                let states = (0..<33).map { cells[c][(cohort * 33 + $0) * width + cell].value }.reduce(0, +)
                #expect(abs(states - cells[p][cohort * width + cell].value) < 1e-6)
                #expect(cells[p][cohort * width + cell].standardDeviation < r.tables[p].info.noiseStandardDeviation)
            }
        }
        // The finest table keeps its own noisy counts.
        let fine = table(r, .attrition, [.state, .offence])
        #expect(cells[fine][0].value == Double(r.tables[fine].noisyCounts[0]))
        let csv = String(decoding: ReleaseExport.countsCSV(r, table: c), as: UTF8.self)
        #expect(csv.split(separator: "\n")[0].hasSuffix("ci_low,ci_high,reconciled_count,std_dev"))
        let json = String(decoding: try ReleaseExport.json(r), as: UTF8.self)
        #expect(json.contains("\"reconciled_count\"") && json.contains("\"std_dev\""))
    }
}
