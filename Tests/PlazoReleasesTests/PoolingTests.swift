import Foundation
import PlazoCases
import PlazoModel
@_spi(Testing) import PlazoPrivacy
@_spi(Testing) @testable import PlazoReleases
import Testing

/// State figures pooled by report year (issue 21, item 5).
@Suite struct PoolingTests {
    static let cutoff = Day(iso: "2026-06-30")!
    /// 2024 and 2025 complete, 2026 only half: the pooled tables have the groups 2024 and 2025.
    static let cohorts = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2"]

    static func spec(rho: String) -> ReleaseSpec {
        var tables: [TableRequest] = []
        for kind in TableKind.allCases {
            tables.append(TableRequest(table: kind, rho: rho))
            tables.append(TableRequest(table: kind, breakdown: [.state], rho: rho))
            tables.append(TableRequest(table: kind, breakdown: [.state], rho: rho, poolCohorts: .year))
        }
        return ReleaseSpec(title: "pooled", cutoff: cutoff.iso, cohorts: cohorts, simulationReplicates: 40, tables: tables)
    }

    static func release(rho: String, perCohort: Int = 600, seed: UInt64) throws -> Release {
        let cases = Synthetic.summaries(
            count: perCohort * cohorts.count, cohorts: cohorts.map { Quarter($0)! }, cutoff: cutoff, seed: seed)
        return try engine().create(
            spec: spec(rho: rho), requester: "tester", projection: CaseProjection(summaries: cases, cutoff: cutoff), randomness: seeded(seed))
    }

    /// With noise off (ρ = 1,000 per table: P(Z ≠ 0) ≈ 2e^(−1,000)) every pooled cell is exactly the
    /// sum of its year's four quarterly cells, and the incomplete year is in no pooled group.
    @Test func pooledCellsAreTheSumOfTheYearsQuarters() throws {
        let r = try Self.release(rho: "1000", perCohort: 200, seed: 3)
        for kind in TableKind.allCases {
            let q = table(r, kind, [.state])
            let p = r.tables.indices.first { r.tables[$0].info.kind == kind && r.tables[$0].info.pooling == .year }!
            let groups = r.cohortGroups(table: p)
            #expect(groups.map(\.label) == ["2024", "2025"])
            let width = r.tables[q].info.cellLabels.count
            for (y, group) in groups.enumerated() {
                for state in 0..<33 {
                    for cell in 0..<width {
                        let quarterly = group.cohorts.map { r.tables[q].noisyCounts[($0 * 33 + state) * width + cell] }.reduce(0, +)
                        #expect(r.tables[p].noisyCounts[(y * 33 + state) * width + cell] == quarterly)
                    }
                }
            }
            #expect(r.groupLabels(table: p, group: 33 + 9) == ["2025", "09"])
            // The pooled group's follow-up spans its four quarters.
            let f = r.followUp(table: p, groups: [33])
            #expect(f.longest == Quarter("2025Q1")!.firstDay!.days(to: Self.cutoff))
        }
    }

    /// At realistic volumes (600 cases per quarter nationally, about 18 per state) the pooled
    /// state figures are readable far more often than the quarterly ones at the same ρ.
    @Test func pooledStateFiguresAreReadableMoreOften() throws {
        let r = try Self.release(rho: "1/40", seed: 11)
        func readable(_ t: Int) -> Double {
            var ok = 0, all = 0
            for g in 0..<r.tables[t].groupCount {
                for (e, d) in r.tables[t].info.estimates.enumerated() where d.unit == "proportion" {
                    let est = r.estimate(table: t, group: g, estimate: e)
                    if est.status == .beyondFollowUp { continue }
                    all += 1
                    if est.reliable { ok += 1 }
                }
            }
            return Double(ok) / Double(max(all, 1))
        }
        let q = table(r, .attrition, [.state])
        let p = r.tables.indices.first { r.tables[$0].info.kind == .attrition && r.tables[$0].info.pooling == .year }!
        let (quarterly, pooled) = (readable(q), readable(p))
        #expect(pooled > 2 * quarterly, "pooled \(pooled), quarterly \(quarterly)")
    }

    /// Dashboards read state figures from the pooled table by default and say so; a quarter or a
    /// year as `cohort` picks the table that has it.
    @Test func dashboardsPreferPooledStateFigures() throws {
        let r = try Self.release(rho: "1/40", perCohort: 100, seed: 5)
        #expect(Dashboard.pooling(r, metric: .funnelShare, filter: [.state: "14"]) == .year)
        #expect(Dashboard.pooling(r, metric: .funnelShare) == nil)
        #expect(Dashboard.pooling(r, metric: .funnelShare, filter: [.state: "14"], cohort: "2025Q2") == nil)
        #expect(Dashboard.pooling(r, metric: .funnelShare, filter: [.state: "14"], cohort: "2025") == .year)
        let medians = try Dashboard.series(r, metric: .medianDaysToFirstDecision, filter: [.state: "14"])
        #expect(medians.map(\.x) == ["2024", "2025"])
        let quarterly = try Dashboard.series(r, metric: .medianDaysToFirstDecision)
        #expect(quarterly.map(\.x) == Self.cohorts)
        #expect(throws: ReleaseError.self) { try Dashboard.series(r, metric: .funnelShare, filter: [.state: "14"], cohort: "2026") }
    }

    /// A pooled table needs a complete year among the cohorts: the refusal names the field.
    @Test func poolingWithoutACompleteYearIsRefusedNamingTheField() throws {
        let spec = ReleaseSpec(
            title: "t", cutoff: "2026-06-30", cohorts: ["2025Q3", "2025Q4", "2026Q1"],
            tables: [TableRequest(table: .attrition, rho: "1/10"), TableRequest(table: .attrition, breakdown: [.state], rho: "1/10", poolCohorts: .year)])
        #expect {
            try spec.validated()
        } throws: { error in
            guard case let .invalidSpec(text) = error as? ReleaseError else { return false }
            return text.contains("tables[1].pool_cohorts") && text.contains("2025Q1")
        }
        let json = #"{"title":"t","cutoff":"2026-06-30","cohorts":["2025Q1"],"tables":[{"table":"attrition","rho":"1","pool_cohorts":"month"}]}"#
        #expect {
            try ReleaseSpec.decode(json: Array(json.utf8))
        } throws: { error in
            guard case let .invalidSpec(text) = error as? ReleaseError else { return false }
            return text.contains("tables[0].pool_cohorts") && text.contains("year")
        }
    }
}
