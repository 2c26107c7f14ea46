import Foundation
import GRDB
import PlazoCases
import PlazoLedger
import PlazoModel
@_spi(Testing) import PlazoPrivacy
@_spi(Testing) @testable import PlazoReleases
import PlazoStore
import Testing

let allKinds = TableKind.allCases

func spec(
    cutoff: String, cohorts: [String], rho: String, breakdowns: [[BreakdownDimension]] = [[]], replicates: Int = 200
) -> ReleaseSpec {
    ReleaseSpec(
        title: "test", cutoff: cutoff, cohorts: cohorts, simulationReplicates: replicates,
        tables: breakdowns.flatMap { b in allKinds.map { TableRequest(table: $0, breakdown: b, rho: rho) } })
}

func engine(budget: String = "100000") async throws -> ReleaseEngine {
    let db = try await AppDatabase.forTesting()
    try await BudgetLedger(database: db).setDefaultBudget(Rational(parsing: budget), by: "test steward")
    return ReleaseEngine(database: db)
}

func seeded(_ seed: UInt64) -> @Sendable () throws(PrivacyError) -> RandomBits {
    let counter = UnsafeSendableBox<UInt64>(0)
    return { () throws(PrivacyError) -> RandomBits in
        let n = counter.withValue { c -> UInt64 in c += 1; return c }
        return RandomBits.seededForTesting(seed &* 1_000_003 &+ n)
    }
}

func table(_ r: Release, _ kind: TableKind, _ breakdown: [BreakdownDimension] = []) -> Int {
    r.tables.firstIndex { $0.info.kind == kind && $0.info.breakdown == breakdown }!
}

func estimateIndex(_ kind: TableKind, _ name: String, _ x: String = "") -> Int {
    Derivation.layout(kind).firstIndex { $0.name == name && $0.x == x }!
}

@Suite struct ReleaseEngineTests {
    static let cutoff = Day(iso: "2026-06-30")!
    static let cohorts = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4"]

    /// With ρ = 1,000 per table the noise is N_ℤ(0, 1/2,000): P(Z ≠ 0) ≈ 2e^(−1,000), so the
    /// release must reproduce an independent exact computation to floating-point precision (1e-9).
    @Test func derivedEstimatesMatchIndependentComputation() async throws {
        let quarters = Self.cohorts.map { Quarter($0)! }
        let cases = Synthetic.summaries(count: 6000, cohorts: quarters, cutoff: Self.cutoff, seed: 7)
        let projection = CaseProjection(summaries: cases, cutoff: Self.cutoff)
        let e = try await engine()
        let r = try await e.create(
            spec: spec(cutoff: "2026-06-30", cohorts: Self.cohorts, rho: "1000", breakdowns: [[], [.state, .offence]], replicates: 20),
            requester: "tester", projection: projection, randomness: seeded(1))
        let tol = 1e-9
        for (ci, cohort) in Self.cohorts.enumerated() {
            let mine = cases.filter { $0.cohort.description == cohort }
            // Table 1: life table and its curves.
            let t1 = table(r, .timeToFirstDecision)
            let ref = Reference.lifeTable(Reference.decisionTimes(mine))
            #expect(r.estimate(table: t1, group: ci, estimate: 0).value == Double(mine.count))
            // Curves are published up to the longest possible follow-up (cutoff − first day of the
            // quarter), computed here independently; beyond it nothing is published.
            let longest = Quarter(cohort)!.firstDay!.days(to: Self.cutoff)
            for k in 0..<24 {
                let x = "\(Reference.edges[k + 1])"
                let points = ["no_decision", "cumulative_incidence_charge", "cumulative_incidence_closure"].map {
                    r.estimate(table: t1, group: ci, estimate: estimateIndex(.timeToFirstDecision, $0, x))
                }
                if Reference.edges[k + 1] > longest {
                    #expect(points.allSatisfy { $0.status == .beyondFollowUp && $0.value.isNaN && $0.low.isNaN && $0.high.isNaN })
                    continue
                }
                #expect(abs(points[0].value - ref.survival[k]) < tol)
                #expect(abs(points[1].value - ref.cif1[k]) < tol)
                #expect(abs(points[2].value - ref.cif2[k]) < tol)
            }
            let lastHorizon = Reference.edges.filter { $0 > 0 && $0 <= min(730, longest) }.last!
            let median = r.estimate(table: t1, group: ci, estimate: estimateIndex(.timeToFirstDecision, "median_days_to_first_decision"))
            if ref.median.isNaN || ref.median > Double(lastHorizon) {
                #expect(median.status == .notReached && median.value.isNaN && median.observedUntil == lastHorizon)
            } else {
                #expect(abs(median.value - ref.median) < 1e-6)
            }
            // Table 5a.
            let t5 = table(r, .victimUpdateTime)
            let refU = Reference.lifeTable(Reference.updateTimes(mine))
            for k in 0..<24 {
                let got = r.estimate(table: t5, group: ci, estimate: estimateIndex(.victimUpdateTime, "updated_by", "\(Reference.edges[k + 1])"))
                if Reference.edges[k + 1] > longest {
                    #expect(got.status == .beyondFollowUp && got.value.isNaN)
                } else {
                    #expect(abs(got.value - (1 - refU.survival[k])) < tol)
                }
            }
            // Table 2: funnel.
            let t2 = table(r, .attrition)
            let f = Reference.funnel(mine)
            for (k, stage) in CaseStage.allCases.enumerated() {
                #expect(r.estimate(table: t2, group: ci, estimate: estimateIndex(.attrition, "reached_count", stage.label)).value == f.reached[k])
                if k > 0 {
                    #expect(abs(r.estimate(table: t2, group: ci, estimate: estimateIndex(.attrition, "reached_share", stage.label)).value - f.share[k - 1]) < tol)
                    #expect(abs(r.estimate(table: t2, group: ci, estimate: estimateIndex(.attrition, "conversion_from_previous", stage.label)).value - f.conversion[k - 1]) < tol)
                }
            }
            // Table 3: dispositions.
            let t3 = table(r, .dispositions)
            let charged = mine.filter { $0.chargeDay != nil }
            for o in ChargedOutcome.allCases {
                let share = Double(charged.filter { $0.chargedOutcome == o }.count) / Double(charged.count)
                #expect(abs(r.estimate(table: t3, group: ci, estimate: estimateIndex(.dispositions, "share_of_charged", o.label)).value - share) < tol)
            }
            // Table 4: backlog.
            let t4 = table(r, .backlog)
            let open = mine.filter(\.isOpen)
            let bands = [0...90, 91...180, 181...365, 366...730, 731...100_000]
            for (b, band) in bands.enumerated() {
                let active = open.filter { $0.status == .active && band.contains($0.openAgeDays!) }.count
                let suspended = open.filter { $0.status == .suspended && band.contains($0.openAgeDays!) }.count
                #expect(r.count(table: t4, group: ci, cell: 2 * b).value == Int64(active))
                #expect(r.count(table: t4, group: ci, cell: 2 * b + 1).value == Int64(suspended))
            }
            // Table 5b.
            let t6 = table(r, .victimUpdateRecency)
            let none = Double(open.filter(\.noUpdateInLast90Days).count)
            #expect(abs(r.estimate(table: t6, group: ci, estimate: 1).value - none / Double(open.count)) < tol)
        }
        // The breakdown table sums to the cohort table, cell by cell, and has all 33 × 10 groups per cohort.
        for kind in allKinds {
            let a = r.tables[table(r, kind)], b = r.tables[table(r, kind, [.state, .offence])]
            #expect(b.groupCount == Self.cohorts.count * 330)
            let cells = kind.cellsPerGroup
            for c in 0..<Self.cohorts.count {
                for cell in 0..<cells {
                    let sum = (0..<330).reduce(Int64(0)) { $0 + b.noisyCounts[(c * 330 + $1) * cells + cell] }
                    #expect(sum == a.noisyCounts[c * cells + cell])
                }
            }
        }
    }

    /// Without censoring before day 730 (cohort 2020Q1, cutoff 2026), Kaplan–Meier and Aalen–Johansen
    /// reduce to empirical proportions: CIF_charge(h) = #(charged before day h) / N.
    @Test func uncensoredCurvesAreEmpiricalProportions() async throws {
        let cutoff = Day(iso: "2026-06-30")!
        let cases = Synthetic.summaries(count: 3000, cohorts: [Quarter("2020Q1")!], cutoff: cutoff, seed: 11)
        let r = try await engine().create(
            spec: spec(cutoff: "2026-06-30", cohorts: ["2020Q1"], rho: "1000", replicates: 20), requester: "t",
            projection: CaseProjection(summaries: cases, cutoff: cutoff), randomness: seeded(2))
        let t1 = table(r, .timeToFirstDecision)
        let n = Double(cases.count)
        for h in [90, 180, 365, 730] {
            let charged = Double(cases.filter { s in s.firstDecision.map { $0.kind == .charge && s.firstReportDay.days(to: $0.day) < h } ?? false }.count)
            let closed = Double(cases.filter { s in s.firstDecision.map { $0.kind == .closure && s.firstReportDay.days(to: $0.day) < h } ?? false }.count)
            #expect(abs(r.estimate(table: t1, group: 0, estimate: estimateIndex(.timeToFirstDecision, "cumulative_incidence_charge", "\(h)")).value - charged / n) < 1e-12)
            #expect(abs(r.estimate(table: t1, group: 0, estimate: estimateIndex(.timeToFirstDecision, "cumulative_incidence_closure", "\(h)")).value - closed / n) < 1e-12)
            #expect(abs(r.estimate(table: t1, group: 0, estimate: estimateIndex(.timeToFirstDecision, "no_decision", "\(h)")).value - (n - charged - closed) / n) < 1e-12)
        }
    }

    @Test func overBudgetReleaseIsRefusedWholeAndLeavesLedgerUnchanged() async throws {
        let db = try await AppDatabase.forTesting()
        let ledger = BudgetLedger(database: db)
        try await ledger.setDefaultBudget(Rational(parsing: "1"), by: "steward")
        try await ledger.setBudget(Rational(parsing: "1/10"), for: Quarter(scope: "2024Q2"), by: "steward")
        let e = ReleaseEngine(database: db)
        let cases = Synthetic.summaries(count: 500, cohorts: [Quarter("2024Q1")!, Quarter("2024Q2")!], cutoff: Self.cutoff, seed: 3)
        let projection = CaseProjection(summaries: cases, cutoff: Self.cutoff)
        // One table of each kind (seven) at ρ = 1/50 cost 7/50 = 0.14 > 0.1 for 2024Q2 (2024Q1 alone could afford it).
        let s = spec(cutoff: "2026-06-30", cohorts: ["2024Q1", "2024Q2"], rho: "1/50", replicates: 20)
        let before = try await ledger.entries()
        await #expect(throws: ReleaseError.self) { try await e.create(spec: s, requester: "t", projection: projection, randomness: seeded(4)) }
        #expect(try await ledger.entries() == before)
        #expect(try await e.list().isEmpty)
        // The atomic check in the store refuses too, even past the preflight (race simulation).
        let spend = SpendRequest(scopes: [try Quarter(scope: "2024Q1"), try Quarter(scope: "2024Q2")], cost: .zCDP(rho: try Rational(parsing: "6/50")), purpose: "p", requester: "t")
        await #expect(throws: LedgerError.self) {
            _ = try await ReleaseStore(db).create(spend: spend, title: "x", cutoff: "2026-06-30", cohorts: ["2024Q1"], totalRho: "6/50", codeVersion: "v", at: Date()) { _, _ in [1] }
        }
        #expect(try await ledger.entries() == before)
        // Within budget: admitted, and each cohort is charged Σρ = 1/10 once (one table of each kind at 1/(10·kinds)).
        let ok = spec(cutoff: "2026-06-30", cohorts: ["2024Q1", "2024Q2"], rho: "1/\(10 * allKinds.count)", replicates: 20)
        let r = try await e.create(spec: ok, requester: "t", projection: projection, randomness: seeded(5))
        #expect(r.metadata.totalRho == "1/10")
        #expect(try await ledger.balance(for: Quarter(scope: "2024Q2")).remainingUnits == 0)
        #expect(try await ledger.balance(for: Quarter(scope: "2024Q1")).spent == RhoUnits.charging(Rational(parsing: "1/10")))
        // Now 2024Q2 is exhausted: any further release touching it is refused.
        await #expect(throws: ReleaseError.self) { try await e.create(spec: ok, requester: "t", projection: projection, randomness: seeded(6)) }
    }

    /// A spec that names its schedule may not spend a cohort's lifetime budget before the last
    /// release: refused whole, saying what fits, with the ledger unchanged; the fitting one passes.
    @Test func scheduleThatWouldOverspendIsRefusedSayingWhatFits() async throws {
        let e = try await engine(budget: "1")
        let cases = Synthetic.summaries(count: 300, cohorts: [Quarter("2025Q1")!], cutoff: Self.cutoff, seed: 12)
        let projection = CaseProjection(summaries: cases, cutoff: Self.cutoff)
        func spec(_ rho: String) -> ReleaseSpec {
            var s = ReleaseSpec(title: "q", cutoff: "2026-06-30", cohorts: ["2025Q1"], simulationReplicates: 20,
                                tables: [TableRequest(table: .attrition, rho: rho)])
            s.releasesPerCohort = 8
            return s
        }
        func saysWhatFits(_ error: any Error) -> Bool {
            guard case let .budgetExceeded(text) = error as? ReleaseError else { return false }
            return text.contains("releases_per_cohort=8") && text.contains("at most ρ=1/8 per release")
        }
        let before = try await BudgetLedger(database: e.database).entries()
        let tooMuch = spec("1/5")
        await #expect { _ = try await e.dryRun(spec: tooMuch) } throws: { saysWhatFits($0) }
        await #expect { _ = try await e.create(spec: tooMuch, requester: "t", projection: projection, randomness: seeded(12)) } throws: { saysWhatFits($0) }
        #expect(try await BudgetLedger(database: e.database).entries() == before)
        #expect(try await e.create(spec: spec("1/8"), requester: "t", projection: projection, randomness: seeded(13)).metadata.totalRho == "1/8")
        // The spec field round-trips through the JSON decoder.
        let json = #"{"title":"q","cutoff":"2026-06-30","cohorts":["2025Q1"],"releases_per_cohort":8,"tables":[{"table":"attrition","rho":"1/8"}]}"#
        #expect(try ReleaseSpec.decode(json: Array(json.utf8)).releasesPerCohort == 8)
    }

    @Test func storedReleaseReadsBackIdenticallyAndIsImmutable() async throws {
        let e = try await engine()
        let cases = Synthetic.summaries(count: 2000, cohorts: [Quarter("2025Q1")!, Quarter("2025Q2")!], cutoff: Self.cutoff, seed: 9)
        let r = try await e.create(
            spec: spec(cutoff: "2026-06-30", cohorts: ["2025Q1", "2025Q2"], rho: "1/20", breakdowns: [[], [.ageBand]], replicates: 50),
            requester: "steward", projection: CaseProjection(summaries: cases, cutoff: Self.cutoff), randomness: seeded(8))
        #expect(r.metadata.id == 1)
        for _ in 0..<2 {
            let again = try await e.release(id: r.metadata.id)
            #expect(again.metadata == r.metadata)
            for (a, b) in zip(again.tables, r.tables) {
                #expect(a.noisyCounts == b.noisyCounts)
                #expect(a.derived.map(\.bitPattern) == b.derived.map(\.bitPattern))
            }
        }
        #expect(try await e.list().map(\.id) == [1])
        await #expect(throws: (any Error).self) {
            try await e.database.write { try await $0.execute("UPDATE release SET title = 'x'") }
        }
        await #expect(throws: (any Error).self) {
            try await e.database.write { try await $0.execute("DELETE FROM release") }
        }
        await #expect(throws: ReleaseError.notFound(2)) { try await e.release(id: 2) }
    }

    @Test func specValidation() async throws {
        let good = spec(cutoff: "2026-06-30", cohorts: ["2025Q1"], rho: "1/10")
        _ = try good.validated()
        var bad = good
        bad.cohorts = ["2026Q3"]
        #expect(throws: ReleaseError.self) { try bad.validated() }
        bad = good
        bad.tables[0].breakdown = [.state, .offence, .channel]
        #expect(throws: ReleaseError.self) { try bad.validated() }
        bad = good
        bad.tables[0].rho = "0"
        #expect(throws: ReleaseError.self) { try bad.validated() }
        bad = good
        bad.tables[0].rho = nil
        bad.tables[0].epsilon = "1"
        #expect(throws: ReleaseError.self) { try bad.validated() }
        bad = good
        bad.cutoff = "June"
        #expect(throws: ReleaseError.self) { try bad.validated() }
        #expect(try good.validated().totalRho == Rational(parsing: "\(allKinds.count)/10"))
        // The committed example spec parses and validates.
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/examples/quarterly-release.json")
        let example = try ReleaseSpec.decode(json: Data(contentsOf: url))
        #expect(try example.validated().cohorts.count == 8)
    }
}
