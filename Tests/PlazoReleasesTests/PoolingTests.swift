import Foundation
import PlazoCases
import PlazoModel
@_spi(Testing) import PlazoPrivacy
@_spi(Testing) @testable import PlazoReleases
import PlazoStore
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

    static func release(rho: String, perCohort: Int = 600, seed: UInt64) async throws -> Release {
        let cases = Synthetic.summaries(
            count: perCohort * cohorts.count, cohorts: cohorts.map { Quarter($0)! }, cutoff: cutoff, seed: seed)
        return try await engine().create(
            spec: spec(rho: rho), requester: "tester", projection: CaseProjection(summaries: cases, cutoff: cutoff), randomness: seeded(seed))
    }

    /// With noise off (ρ = 1,000 per table: P(Z ≠ 0) ≈ 2e^(−1,000)) every pooled cell is exactly the
    /// sum of its year's four quarterly cells, and the incomplete year is in no pooled group.
    @Test func pooledCellsAreTheSumOfTheYearsQuarters() async throws {
        let r = try await Self.release(rho: "1000", perCohort: 200, seed: 3)
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
    @Test func pooledStateFiguresAreReadableMoreOften() async throws {
        let r = try await Self.release(rho: "1/40", seed: 11)
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
    @Test func dashboardsPreferPooledStateFigures() async throws {
        let r = try await Self.release(rho: "1/40", perCohort: 100, seed: 5)
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

    /// Intervals of figures pooled by year cover 95 ± 1.5 %: 150 releases with fresh seeded noise of
    /// the national funnel, time to charge and victim-contact tables pooled by year (two complete
    /// years, 2,400 and 600 cases), against the same derivation on the exact counts. The 150
    /// releases' per-release coverage fractions give the standard error (about 0.5 point).
    @Test func pooledFiguresCover95Percent() async throws {
        let cutoff = Self.cutoff
        let quarters = Self.cohorts.map { Quarter($0)! }
        var cases = Synthetic.summaries(count: 2400, cohorts: Array(quarters[0..<4]), cutoff: cutoff, seed: 40)
        cases += Synthetic.summaries(count: 600, cohorts: Array(quarters[4..<8]), cutoff: cutoff, seed: 41)
        let kinds: [TableKind] = [.attrition, .chargeByHorizon, .victimUpdateRecency, .dispositions]
        let spec = ReleaseSpec(
            title: "pooled coverage", cutoff: cutoff.iso, cohorts: Array(Self.cohorts[0..<8]), simulationReplicates: 200,
            tables: kinds.map { TableRequest(table: $0, rho: "1/50", poolCohorts: .year) })
        let plan = try spec.validated()
        var slots = [Int16](repeating: -1, count: 1024)
        for (i, q) in plan.cohorts.enumerated() { slots[CaseProjection.cohortNumber(q)] = Int16(i) }
        let plans = plan.tables.map {
            TabulationPlan(kind: $0.kind, dimensions: $0.breakdown, cohortCount: $0.cohortGroups.count, cohortGroups: $0.cohortGroups)
        }
        let exact = CaseProjection(summaries: cases, cutoff: cutoff).tabulate(plans, cohortSlots: slots)
        let infos = try plan.tables.map { try ReleaseEngine.info($0, level: 0.95) }
        let engine = ReleaseEngine(database: try await AppDatabase.forTesting())
        func published(_ counts: [[Int64]], seed: UInt64) -> [[Estimate]] {
            let derived = ReleaseEngine.derive(counts, infos: infos, replicates: 200, level: 0.95, seed: seed, cohorts: plan.cohorts, cutoff: cutoff)
            return infos.indices.flatMap { t in
                plan.tables[t].cohortGroups.indices.map { g in
                    let follow = FollowUp(pooling: plan.tables[t].cohortGroups[g].cohorts.map { FollowUp(cohort: plan.cohorts[$0], cutoff: cutoff) })
                    return infos[t].estimates.indices.map { e in
                        let i = 3 * (g * infos[t].estimates.count + e)
                        return Estimate.assess(infos[t].estimates[e], value: derived[t][i], low: derived[t][i + 1], high: derived[t][i + 2], followUp: follow)
                    }
                }
            }
        }
        let truth = published(exact, seed: 1)
        var fractions: [Double] = []
        for r in 0..<150 {
            let noisy = try engine.addNoise(exact, mechanisms: plan.tables.map(\.mechanism), randomness: seeded(80_000 + UInt64(r)))
            let got = published(noisy, seed: 95_000 + UInt64(r))
            var hit = 0, all = 0
            for (group, estimates) in got.enumerated() {
                for (e, estimate) in estimates.enumerated() where truth[group][e].status == .ok && estimate.status != .beyondFollowUp {
                    all += 1
                    let low = estimate.low.isNaN ? -Double.infinity : estimate.low
                    let high = estimate.high.isNaN ? Double.infinity : estimate.high
                    if low <= truth[group][e].value && truth[group][e].value <= high { hit += 1 }
                }
            }
            fractions.append(Double(hit) / Double(max(all, 1)))
        }
        let mean = fractions.reduce(0, +) / Double(fractions.count)
        print(String(format: "pooled by year: coverage %.1f %%", 100 * mean))
        #expect(abs(mean - 0.95) <= 0.015, "pooled coverage \(mean)")
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
