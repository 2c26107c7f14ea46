import Foundation
import PlazoCases
import PlazoModel
@_spi(Testing) import PlazoPrivacy
@_spi(Testing) @testable import PlazoReleases
import PlazoStore
import Testing

/// Interval coverage by simulation: N releases of the same synthetic data with independent seeded
/// noise; each 95 % interval should contain the true (un-noised) figure in about 95 % of them.
///
/// Bounds: with N = 250 releases and true coverage p = 0.95, the number of hits is Binomial(250, 0.95):
/// mean 237.5, SD √(250·0.95·0.05) = 3.45. We require ≥ 223 (≈ 4.2 SD below the mean, i.e. observed
/// coverage ≥ 89.2 %; P(fail | p = 0.95) < 2e-5). Count intervals are conservative by construction
/// (exact discrete tail, P(|Z| ≤ h) ≥ 0.95), so they get no upper bound; for simulated intervals we
/// also require ≤ 249 hits (P(250/250 | p = 0.95) = 0.95^250 ≈ 2.7e-6): an interval that never misses
/// is too wide to be informative.
@Suite struct CoverageTests {
    @Test func intervalsCoverTheTruthAtTheStatedRate() throws {
        let cutoff = Day(iso: "2026-06-30")!
        let cohorts = [Quarter("2025Q1")!]
        // 3,000 cases in one cohort, σ² = 1/(2ρ) = 25 (σ = 5) per cell.
        let cases = Synthetic.summaries(count: 3000, cohorts: cohorts, cutoff: cutoff, seed: 21)
        let projection = CaseProjection(summaries: cases, cutoff: cutoff)
        let e = try engine()
        let s = spec(cutoff: "2026-06-30", cohorts: ["2025Q1"], rho: "1/50", replicates: 200)

        // Truth: the same release with negligible noise.
        let truth = try engine().create(
            spec: spec(cutoff: "2026-06-30", cohorts: ["2025Q1"], rho: "1000", replicates: 20),
            requester: "t", projection: projection, randomness: seeded(999))

        let n = 250
        let t1 = table(truth, .timeToFirstDecision), t2 = table(truth, .attrition), t3 = table(truth, .dispositions)
        let t5 = table(truth, .victimUpdateTime), t6 = table(truth, .victimUpdateRecency)
        let watched: [(name: String, table: Int, estimate: Int)] = [
            ("CIF charge 90", t1, estimateIndex(.timeToFirstDecision, "cumulative_incidence_charge", "90")),
            ("CIF charge 365", t1, estimateIndex(.timeToFirstDecision, "cumulative_incidence_charge", "365")),
            ("CIF closure 180", t1, estimateIndex(.timeToFirstDecision, "cumulative_incidence_closure", "180")),
            ("no decision 180", t1, estimateIndex(.timeToFirstDecision, "no_decision", "180")),
            ("median decision", t1, estimateIndex(.timeToFirstDecision, "median_days_to_first_decision")),
            ("reached charged", t2, estimateIndex(.attrition, "reached_share", "charged")),
            ("conversion suspect→charged", t2, estimateIndex(.attrition, "conversion_from_previous", "charged")),
            ("share acquittal", t3, estimateIndex(.dispositions, "share_of_charged", "acquittal")),
            ("updated by 90", t5, estimateIndex(.victimUpdateTime, "updated_by", "90")),
            ("no update 90d share", t6, 1),
        ]
        var hits = [Int](repeating: 0, count: watched.count)
        var countHits = 0, countTotal = 0
        for i in 0..<n {
            let r = try e.create(spec: s, requester: "t", projection: projection, randomness: seeded(UInt64(1000 + i)))
            for (w, item) in watched.enumerated() {
                let trueValue = truth.estimate(table: item.table, group: 0, estimate: item.estimate).value
                let got = r.estimate(table: item.table, group: 0, estimate: item.estimate)
                if got.low <= trueValue && trueValue <= got.high { hits[w] += 1 }
            }
            for t in r.tables.indices {
                for c in 0..<r.tables[t].info.cellLabels.count {
                    let x = truth.tables[t].noisyCounts[c]
                    let y = r.count(table: t, group: 0, cell: c)
                    countTotal += 1
                    if y.low <= x && x <= y.high { countHits += 1 }
                }
            }
        }
        print("coverage over \(n) releases: " + watched.enumerated().map { "\($1.name) \(hits[$0])" }.joined(separator: ", ")
              + "; counts \(countHits)/\(countTotal)")
        for (w, item) in watched.enumerated() {
            #expect(hits[w] >= 223 && hits[w] <= 249, "\(item.name): \(hits[w])/\(n)")
        }
        // Cells: 150 per release × 250 releases; exact intervals have coverage ≥ 95 %.
        #expect(Double(countHits) / Double(countTotal) >= 0.94, "count coverage \(countHits)/\(countTotal)")
    }
}
