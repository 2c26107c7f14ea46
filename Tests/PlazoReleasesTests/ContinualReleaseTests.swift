import Foundation
import PlazoCases
import PlazoLedger
import PlazoModel
@_spi(Testing) import PlazoPrivacy
@_spi(Testing) @testable import PlazoReleases
import PlazoStore
import Testing

/// Continual release wired into releases (`"continual": true`, `docs/privacy-model.md` §4a): one
/// cohort released every quarter for eight quarters, its charge bands one stream.
@Suite struct ContinualReleaseTests {
    static let cutoffs = ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31", "2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31"]
        .map { Day(iso: $0)! }

    /// A synthetic 2024Q1 cohort: reports in the quarter, half charged after an exponential time
    /// (mean 250 days, so some after 730), states 1 … 32 in turn. Each event arrives at the first
    /// quarterly cutoff on or after its day.
    struct Cohort {
        var arrivals = [[CaseEvent]](repeating: [], count: 8)
        /// Exact (case, band) of every charge within 730 days, with its day.
        var charges: [(pseudonym: CasePseudonym, band: Int, day: Day, state: UInt8)] = []
        var states: [UInt8] = []

        init(cases: Int, seed: UInt64) {
            var rng = TestRNG(seed)
            let start = Day(iso: "2024-01-01")!
            for i in 0..<cases {
                let p = CasePseudonym(low: UInt64(i) + 1, high: seed)
                let state = UInt8(1 + i % 32)
                states.append(state)
                let attributes = CaseAttributes(
                    offence: .onlineGrooming, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: state)!, channel: .hotline)
                let report = start.adding(days: rng.int(91))
                add(CaseEvent(pseudonym: p, type: .reportReceived, day: report, attributes: attributes, agencyType: .stateProsecutor))
                if rng.int(2) == 0 {
                    let t = rng.days(mean: 250)
                    let day = report.adding(days: t)
                    guard day <= ContinualReleaseTests.cutoffs.last! else { continue }
                    add(CaseEvent(pseudonym: p, type: .chargeFiled, day: day, agencyType: .stateProsecutor))
                    if t < 730 { charges.append((p, t < 90 ? 0 : t < 180 ? 1 : t < 365 ? 2 : 3, day, state)) }
                }
            }
        }

        mutating func add(_ e: CaseEvent) {
            arrivals[ContinualReleaseTests.cutoffs.firstIndex { e.day <= $0 }!].append(e)
        }

        /// Exact cases charged by `cutoff` in each band.
        func bands(by cutoff: Day, state: UInt8? = nil) -> [Int64] {
            var out = [Int64](repeating: 0, count: 4)
            for c in charges where c.day <= cutoff && (state == nil || c.state == state) { out[c.band] += 1 }
            return out
        }
    }

    static func spec(step k: Int, rho: String, breakdown: [BreakdownDimension] = [], extra: [TableRequest] = []) -> ReleaseSpec {
        var s = ReleaseSpec(
            title: "quarter \(k)", cutoff: cutoffs[k - 1].iso, cohorts: ["2024Q1"], simulationReplicates: 20,
            tables: [TableRequest(table: .chargeByHorizon, breakdown: breakdown, rho: rho, continual: true)] + extra)
        s.releasesPerCohort = 8
        return s
    }

    @Test("eight continual releases publish the exact running totals (negligible noise), never contradict an earlier one, and charge the lifetime ρ exactly")
    func exactWiring() async throws {
        let e = try await engine()
        let cohort = Cohort(cases: 300, seed: 7)
        let live = ReplayedCases(CaseIndex(), lastBatch: 0)
        var previous: [[Int64]] = []
        for k in 1...8 {
            live.withMutableCaseIndex { $0.apply(cohort.arrivals[k - 1], from: AgencyID(1)) }
            // ρ = 1,000 per release: the decoded totals' noise has variance ≈ 2·10⁻⁴, so rounding
            // gives the exact counts.
            let spec = Self.spec(step: k, rho: "1000", extra: [TableRequest(table: .attrition, rho: "1")])
            // The dry run charges what the release will: this step's cost plus the fresh table's.
            let stepCost = try ContinualSchedule(horizon: 8, perRelease: Rational(integer: 1000)).charge(step: k).rho
            #expect(try await e.dryRun(spec: spec).cohorts[0].costRho == stepCost.adding(Rational(integer: 1)).description)
            let r = try await e.create(spec: spec, requester: "t", live: live, randomness: seeded(UInt64(k)))
            #expect(r.metadata.cohortSpend?.first?.spentRho != nil)
            let t = table(r, .chargeByHorizon)
            let cells = r.tables[t].noisyCounts
            let possible = FollowUp(cohort: Quarter("2024Q1")!, cutoff: Self.cutoffs[k - 1]).possibleCells(.chargeByHorizon)
            let exact = cohort.bands(by: Self.cutoffs[k - 1])
            for b in 0..<4 { #expect(cells[b] == (possible[b] ? exact[b] : 0), "step \(k) band \(b)") }
            #expect(cells.reduce(0, +) == 300, "the cohort's size, measured once at step 1")
            let info = try #require(r.tables[t].info.continual)
            #expect(info.cohorts[0].step == k)
            #expect(info.cohorts[0].encoded.count == k)
            #expect(Array(info.cohorts[0].encoded.prefix(k - 1)) == previous, "release \(k) decodes from the values already published")
            previous = info.cohorts[0].encoded
        }
        // 8 × (ρ = 1,000 of the continual table + ρ = 1 of attrition), exactly.
        #expect(try await BudgetLedger(database: e.database).balance(for: Quarter("2024Q1")!).spent.rho.description == "8008")
        // A ninth release of the stream is refused, saying why; nothing is spent.
        var ninth = Self.spec(step: 8, rho: "1000")
        ninth.title = "ninth"
        await #expect {
            try await e.create(spec: ninth, requester: "t", live: live, randomness: seeded(99))
        } throws: { error in
            guard case let ReleaseError.budgetExceeded(why) = error else { return false }
            return why.contains("all 8 releases") && why.contains("2024Q1")
        }
        await #expect(throws: ReleaseError.self) { try await e.dryRun(spec: ninth) }
        #expect(try await BudgetLedger(database: e.database).balance(for: Quarter("2024Q1")!).spent.rho.description == "8008")
    }

    @Test("a case enters the stream once: a voided charge stays counted, a late report is not a member, a corrected state stays in its first group")
    func heldEntries() async throws {
        let e = try await engine()
        let live = ReplayedCases(CaseIndex(), lastBatch: 0)
        func attributes(_ state: UInt8) -> CaseAttributes {
            CaseAttributes(offence: .onlineGrooming, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: state)!, channel: .hotline)
        }
        func report(_ id: UInt64, _ day: String, state: UInt8 = 9) -> CaseEvent {
            CaseEvent(pseudonym: CasePseudonym(low: id, high: 5), type: .reportReceived, day: Day(iso: day)!, attributes: attributes(state), agencyType: .stateProsecutor)
        }
        func charge(_ id: UInt64, _ day: String) -> CaseEvent {
            CaseEvent(pseudonym: CasePseudonym(low: id, high: 5), type: .chargeFiled, day: Day(iso: day)!, agencyType: .stateProsecutor)
        }
        // Step 1: A charged at day 30; B and D reported (state 9); 5 others.
        var first = [report(1, "2024-01-10"), charge(1, "2024-02-09"), report(2, "2024-01-10"), report(4, "2024-02-01")]
        for i in 10..<15 { first.append(report(UInt64(i), "2024-03-01")) }
        live.withMutableCaseIndex { $0.apply(first, from: AgencyID(1)) }
        let exactSpec = { (k: Int) in Self.spec(step: k, rho: "1000", breakdown: [.state]) }
        let nine = 9 * ChargeHorizons.labels.count  // state 09's group
        let r1 = try await e.create(spec: exactSpec(1), requester: "t", live: live, randomness: seeded(1))
        #expect(Array(r1.tables[0].noisyCounts[nine..<(nine + 5)]) == [1, 0, 0, 0, 7])

        // Step 2: B charged at day 100; C's report (dated in 2024Q1) arrives only now; D's earlier
        // report with state 14 arrives (D's attributes now come from it).
        live.withMutableCaseIndex {
            $0.apply([charge(2, "2024-04-19"), report(3, "2024-03-15"), charge(3, "2024-04-01"), report(4, "2024-01-05", state: 14)], from: AgencyID(1))
        }
        let r2 = try await e.create(spec: exactSpec(2), requester: "t", live: live, randomness: seeded(2))
        #expect(Array(r2.tables[0].noisyCounts[nine..<(nine + 5)]) == [1, 1, 0, 0, 6], "C is not a member; D stays in state 09")
        let fourteen = 14 * ChargeHorizons.labels.count
        #expect(r2.tables[0].noisyCounts[fourteen..<(fourteen + 5)].allSatisfy { $0 == 0 })

        // Step 3: B's charge is voided. It stays counted where it entered.
        let b = charge(2, "2024-04-19")
        live.withMutableCaseIndex {
            $0.apply([CaseEvent(pseudonym: b.pseudonym, type: .void, day: Day(iso: "2024-08-01")!, agencyType: .stateProsecutor,
                                target: EventReference(type: .chargeFiled, detail: 0, day: b.day))], from: AgencyID(1))
        }
        let r3 = try await e.create(spec: exactSpec(3), requester: "t", live: live, randomness: seeded(3))
        #expect(Array(r3.tables[0].noisyCounts[nine..<(nine + 5)]) == [1, 1, 0, 0, 6])
        let entries = live.snapshot().streamEntries()
        #expect(entries.count == 8, "members: A, B, D and the 5 others; not C")
        #expect(entries.first { $0.pseudonym == b.pseudonym }?.entry.entryStep == 2)
    }

    @Test("a spec that changes a stream's schedule is refused naming the field; continual needs releases_per_cohort, charge_by_horizon and ended quarters")
    func badSpecs() async throws {
        let e = try await engine()
        let live = ReplayedCases(CaseIndex(), lastBatch: 0)
        _ = try await e.create(spec: Self.spec(step: 1, rho: "1/10"), requester: "t", live: live, randomness: seeded(1))
        func refusal(_ spec: ReleaseSpec) async -> String? {
            do { _ = try await e.create(spec: spec, requester: "t", live: live, randomness: seeded(2)) } catch let ReleaseError.invalidSpec(why) {
                return why
            } catch { return "other: \(error)" }
            return nil
        }
        await #expect(refusal(Self.spec(step: 2, rho: "1/20"))?.contains("a stream keeps its schedule") == true)
        var noSchedule = Self.spec(step: 2, rho: "1/10")
        noSchedule.releasesPerCohort = nil
        await #expect(refusal(noSchedule)?.contains("tables[0].continual: give releases_per_cohort") == true)
        var attrition = Self.spec(step: 2, rho: "1/10")
        attrition.tables = [TableRequest(table: .attrition, rho: "1/10", continual: true)]
        await #expect(refusal(attrition)?.contains("only charge_by_horizon") == true)
        var open = Self.spec(step: 2, rho: "1/10")
        open.cutoff = "2024-03-15"
        await #expect(refusal(open)?.contains("2024Q1 is not over by the cutoff") == true)
        var pooled = Self.spec(step: 2, rho: "1/10")
        pooled.cohorts = ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
        pooled.cutoff = "2024-12-31"
        pooled.tables[0].poolCohorts = .year
        await #expect(refusal(pooled)?.contains("cannot also pool cohorts") == true)
        // The projection-only path (no case index to hold the entries) refuses continual tables.
        await #expect(throws: ReleaseError.self) {
            try await e.create(spec: Self.spec(step: 2, rho: "1/10"), requester: "t", projection: CaseProjection(index: CaseIndex(), cutoff: Self.cutoffs[1]))
        }
    }

    /// The target at the release level, at the example spec's ρ (7/250 per release): at
    /// equal lifetime ρ, the last release's running totals have ≥ 2.5× less variance than an even
    /// split over 8 releases (which publishes 1/(2ρ) per cell), and the variance the release
    /// publishes is the one its numbers have. (Rounding the totals to integers adds 1/12 per cell:
    /// the ratio is 2.54 here and stays ≥ 2.5 while the table's lifetime ρ is ≤ 0.5.)
    ///
    /// Over 30 independent schedules of 8 releases (seeds 1 … 30) the step-8 errors of the 4 band
    /// cells of 32 state groups (3,840 errors) have an empirical variance within ±12 % of the
    /// published one: its relative standard error at that size is √(2/3,840) = 2.3 % (5 standard
    /// errors). Coverage of the 95 % intervals of "charged within h days" after 8 releases: 2,880
    /// intervals, binomial SD 0.41 %, so 95 ± 1.5 % is 3.7 SD.
    ///
    /// On the embedded store only: the statistics do not depend on the engine, and 240 releases
    /// on fresh PostgreSQL schemas would add minutes to the PostgreSQL run of the suite.
    @Test("at equal lifetime ρ the last release's running totals have ≥ 2.5× less variance than an even split, and the published variance is the realised one")
    func gainAndVariance() async throws {
        let cohort = Cohort(cases: 1600, seed: 3)
        let rho = "7/250"
        var errors: [Double] = []
        var published = 0.0
        var covered = 0, intervals = 0
        for seed in 1...30 as ClosedRange<UInt64> {
            let db = try AppDatabase.inMemory()
            try await BudgetLedger(database: db).setDefaultBudget(Rational(integer: 1), by: "test steward")
            let e = ReleaseEngine(database: db)
            let live = ReplayedCases(CaseIndex(), lastBatch: 0)
            var last: Release?
            for k in 1...8 {
                live.withMutableCaseIndex { $0.apply(cohort.arrivals[k - 1], from: AgencyID(1)) }
                last = try await e.create(spec: Self.spec(step: k, rho: rho, breakdown: [.state]), requester: "t", live: live, randomness: seeded(seed * 100 + UInt64(k)))
            }
            let r = last!
            let info = try #require(r.tables[0].info.continual)
            published = info.cohorts[0].bandVariance
            for state in 1...32 {
                let exact = cohort.bands(by: Self.cutoffs[7], state: UInt8(state))
                let g = state * ChargeHorizons.labels.count
                for b in 0..<4 { errors.append(Double(r.tables[0].noisyCounts[g + b] - exact[b])) }
                // Coverage of "charged within h days" (h = 90, 180, 365: followed ≥ 640 days).
                let n = Double(cohort.states.filter { $0 == UInt8(state) }.count)
                var charged = 0.0
                for (k, _) in [90, 180, 365].enumerated() {
                    charged += Double(exact[k])
                    let est = r.estimate(table: 0, group: state, estimate: 1 + k)
                    guard est.low.isFinite, est.high.isFinite else { continue }
                    intervals += 1
                    if est.low <= charged / n && charged / n <= est.high { covered += 1 }
                }
            }
        }
        let even = 1 / (2 * (try Rational(parsing: rho)).doubleValue)
        #expect(even / published >= 2.5, "even split \(even), continual \(published)")
        let mean = errors.reduce(0, +) / Double(errors.count)
        let variance = errors.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(errors.count - 1)
        #expect(abs(variance / published - 1) < 0.12, "realised \(variance), published \(published)")
        // Coverage of the 95 % intervals after 8 releases (correlated within a group across horizons).
        let rate = Double(covered) / Double(intervals)
        print("continual charged_within coverage after 8 releases: \(covered)/\(intervals) = \(rate)")
        #expect(intervals > 2500)
        #expect(rate >= 0.935 && rate <= 0.965)
    }
}
