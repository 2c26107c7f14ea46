import Foundation
import PlazoCases
import PlazoModel
@_spi(Testing) import PlazoPrivacy
@_spi(Testing) @testable import PlazoReleases
import Testing

/// Time to charge counted directly at the headline horizons (issue 21, item 3).
@Suite struct ChargeByHorizonTests {
    static let cutoff = Day(iso: "2026-06-30")!
    static let cohorts = ["2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"]

    /// With noise off, each published share equals the exact share of the cohort whose first
    /// decision was a charge within h days; a horizon some case of the cohort has not been
    /// followed is not published.
    @Test func sharesEqualAnIndependentCountWhereEveryCaseIsFollowed() async throws {
        let quarters = Self.cohorts.map { Quarter($0)! }
        let cases = Synthetic.summaries(count: 4000, cohorts: quarters, cutoff: Self.cutoff, seed: 8)
        let r = try await engine().create(
            spec: ReleaseSpec(title: "t", cutoff: Self.cutoff.iso, cohorts: Self.cohorts, simulationReplicates: 20,
                              tables: [TableRequest(table: .chargeByHorizon, rho: "1000")]),
            requester: "tester", projection: CaseProjection(summaries: cases, cutoff: Self.cutoff), randomness: seeded(8))
        var published = 0
        for (g, cohort) in Self.cohorts.enumerated() {
            let q = Quarter(cohort)!
            let mine = cases.filter { $0.cohort == q }
            let shortest = q.lastDay!.days(to: Self.cutoff)
            #expect(r.estimate(table: 0, group: g, estimate: 0).value == Double(mine.count))
            for (k, h) in ChargeHorizons.horizons.enumerated() {
                let e = r.estimate(table: 0, group: g, estimate: 1 + k)
                if h > shortest {
                    #expect(e.status == .beyondFollowUp && e.value.isNaN)
                    continue
                }
                published += 1
                let charged = mine.filter { s in
                    guard let d = s.firstDecision, d.kind == .charge else { return false }
                    return s.firstReportDay.days(to: d.day) < h
                }.count
                #expect(abs(e.value - Double(charged) / Double(mine.count)) < 1e-9, "\(cohort) at \(h)")
                #expect(e.observedUntil == ChargeHorizons.horizons.last { $0 <= shortest })
            }
        }
        #expect(published >= 12)
    }

    /// The dashboard over all cohorts: each horizon pools the cohorts every case of which has been
    /// followed that long (noise off: the exact share of those cohorts' cases).
    @Test func dashboardPoolsTheCohortsFollowedEachHorizon() async throws {
        let quarters = Self.cohorts.map { Quarter($0)! }
        let cases = Synthetic.summaries(count: 4000, cohorts: quarters, cutoff: Self.cutoff, seed: 10)
        let r = try await engine().create(
            spec: ReleaseSpec(title: "t", cutoff: Self.cutoff.iso, cohorts: Self.cohorts, simulationReplicates: 20,
                              tables: [TableRequest(table: .chargeByHorizon, rho: "1000")]),
            requester: "tester", projection: CaseProjection(summaries: cases, cutoff: Self.cutoff), randomness: seeded(10))
        let points = try Dashboard.series(r, metric: .chargedWithin)
        #expect(points.map(\.x) == ["90", "180", "365", "730"])
        for p in points {
            let h = p.day!
            let mine = cases.filter { $0.cohort.lastDay!.days(to: Self.cutoff) >= h }
            if mine.isEmpty { #expect(p.status == .beyondFollowUp && p.value == nil); continue }
            let charged = mine.filter { s in
                guard let d = s.firstDecision, d.kind == .charge else { return false }
                return s.firstReportDay.days(to: d.day) < h
            }.count
            #expect(abs(p.value! - Double(charged) / Double(mine.count)) < 1e-9, "day \(h)")
            #expect(abs(p.denominator!.value - Double(mine.count)) < 1e-9)
        }
        #expect(points.filter { $0.value != nil }.count >= 3)
    }

    /// At realistic volumes (600 cases in a cohort) and equal ρ per table, "charged within 365 days"
    /// counted directly has a narrower interval than the life table's cumulative incidence at 365:
    /// three noisy cells over five, against about twelve bins of hazards over 75 cells.
    @Test func directCountIsNarrowerThanTheLifeTableCurve() async throws {
        let quarters = ["2025Q2"].map { Quarter($0)! }
        let cases = Synthetic.summaries(count: 600, cohorts: quarters, cutoff: Self.cutoff, seed: 9)
        let r = try await engine().create(
            spec: ReleaseSpec(title: "t", cutoff: Self.cutoff.iso, cohorts: ["2025Q2"], simulationReplicates: 200,
                              tables: [TableRequest(table: .chargeByHorizon, rho: "1/50"), TableRequest(table: .timeToFirstDecision, rho: "1/50")]),
            requester: "tester", projection: CaseProjection(summaries: cases, cutoff: Self.cutoff), randomness: seeded(9))
        let direct = r.estimate(table: 0, group: 0, estimate: 1 + 2)  // charged_within 365
        let curve = r.estimate(table: 1, group: 0, estimate: estimateIndex(.timeToFirstDecision, "cumulative_incidence_charge", "365"))
        let (a, b) = (try #require(direct.halfWidth), try #require(curve.halfWidth))
        #expect(b / a >= 1.5, "direct ±\(a), life table ±\(b)")
    }
}
