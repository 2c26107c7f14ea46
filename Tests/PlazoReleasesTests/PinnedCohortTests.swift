import Foundation
import GRDB
import PlazoCases
import PlazoLedger
import PlazoModel
@_spi(Testing) import PlazoPrivacy
@_spi(Testing) @testable import PlazoReleases
import PlazoStore
import Testing

/// Pinned cohorts (`docs/privacy-model.md` §4), dry runs and drafts, on the engine alone (the
/// live index is a replayed one; the ingest-side tests are in PlazoServerTests).
@Suite struct PinnedCohortTests {
    static let attributes = CaseAttributes(offence: .onlineGrooming, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: 9)!, channel: .hotline)

    static func report(_ p: CasePseudonym, _ day: Day) -> CaseEvent {
        CaseEvent(pseudonym: p, type: .reportReceived, day: day, attributes: attributes, agencyType: .stateProsecutor)
    }

    static func void(_ target: CaseEvent, on day: Day) -> CaseEvent {
        CaseEvent(pseudonym: target.pseudonym, type: .void, day: day, agencyType: target.agencyType,
                  target: EventReference(type: target.type, detail: target.detail, day: target.day))
    }

    static func quarterNumber(_ q: Quarter) -> Int { (q.year - 2000) * 4 + q.quarter - 1 }

    /// The per-cohort totals of the attrition table (every case is in exactly one of its cells).
    static func totals(_ r: Release) -> [String: Int64] {
        let t = r.tables.firstIndex { $0.info.kind == .attrition && $0.info.breakdown.isEmpty }!
        let cells = r.tables[t].info.cellLabels.count
        var out: [String: Int64] = [:]
        for (g, cohort) in r.metadata.cohorts.enumerated() {
            out[cohort] = r.tables[t].noisyCounts[(g * cells)..<((g + 1) * cells)].reduce(0, +)
        }
        return out
    }

    /// ρ = 1,000 per table: N_ℤ(0, 1/2,000) noise is 0 except with probability ≈ 2e^(−1,000), so
    /// the counts are exact.
    static func exactSpec(cutoff: String, cohorts: [String]) -> ReleaseSpec {
        ReleaseSpec(title: "exact", cutoff: cutoff, cohorts: cohorts, simulationReplicates: 20,
                    tables: [TableRequest(table: .attrition, rho: "1000"), TableRequest(table: .timeToFirstDecision, rho: "1000")])
    }

    @Test("a case whose first report moves to an earlier quarter after release 1 is still counted in its pinned cohort, its times clamped")
    func movedCaseStaysPinned() async throws {
        let e = try await engine()
        var index = CaseIndex()
        let a = CasePseudonym(low: 1, high: 1)
        var events = [Self.report(a, Day(iso: "2024-05-10")!)]
        for i in 0..<5 { events.append(Self.report(CasePseudonym(low: 100 + UInt64(i), high: 1), Day(iso: "2024-01-10")!)) }
        for i in 0..<3 { events.append(Self.report(CasePseudonym(low: 200 + UInt64(i), high: 1), Day(iso: "2024-05-01")!)) }
        index.apply(events, from: AgencyID(1))
        let live = ReplayedCases(index, lastBatch: 0)
        let spec = Self.exactSpec(cutoff: "2024-06-30", cohorts: ["2024Q1", "2024Q2"])
        let r1 = try await e.create(spec: spec, requester: "t", live: live, randomness: seeded(1))
        #expect(Self.totals(r1) == ["2024Q1": 5, "2024Q2": 4])
        #expect(live.snapshot().pinnedCohortNumber(of: a) == Self.quarterNumber(Quarter("2024Q2")!))

        // A late report with an earlier date: A's first report is now in 2024Q1.
        live.withMutableCaseIndex { $0.apply([Self.report(a, Day(iso: "2024-02-01")!)], from: AgencyID(1)) }
        #expect(live.snapshot().evaluation(of: a, asOf: Day(iso: "2024-06-30")!)?.summary?.cohort == Quarter("2024Q1")!)
        let r2 = try await e.create(spec: spec, requester: "t", live: live, randomness: seeded(2))
        // Without pins: 2024Q1 = 6, 2024Q2 = 3.
        #expect(Self.totals(r2) == ["2024Q1": 5, "2024Q2": 4])
        // A is censored at its follow-up, measured from the clamped origin 2024-04-01: 90 days (bin
        // 90-119), inside 2024Q2's support; unclamped it would be 150 days (bin 150-179).
        let t = table(r2, .timeToFirstDecision)
        let labels = r2.tables[t].info.cellLabels
        let q2 = labels.count  // group 1 = 2024Q2
        #expect(r2.tables[t].noisyCounts[q2 + labels.firstIndex(of: "90-119|censored")!] == 1)
        #expect(r2.tables[t].noisyCounts[q2 + labels.firstIndex(of: "150-179|censored")!] == 0)
        #expect(r2.metadata.cohortSpend?.map(\.spentRho) == ["4000", "4000"])
    }

    @Test("a case whose first report moves to a later quarter stays in its pinned cohort, measured from that quarter's last day")
    func laterMoveIsClampedIntoThePinnedQuarter() async throws {
        let e = try await engine()
        var index = CaseIndex()
        let b = CasePseudonym(low: 2, high: 1)
        let first = Self.report(b, Day(iso: "2024-01-20")!)
        var events = [first]
        for i in 0..<5 { events.append(Self.report(CasePseudonym(low: 100 + UInt64(i), high: 1), Day(iso: "2024-01-10")!)) }
        index.apply(events, from: AgencyID(1))
        let live = ReplayedCases(index, lastBatch: 0)
        let spec = Self.exactSpec(cutoff: "2024-06-30", cohorts: ["2024Q1", "2024Q2"])
        _ = try await e.create(spec: spec, requester: "t", live: live, randomness: seeded(5))
        // The first report is retracted; the remaining one is in 2024Q2.
        live.withMutableCaseIndex { $0.apply([Self.void(first, on: Day(iso: "2024-06-01")!), Self.report(b, Day(iso: "2024-05-25")!)], from: AgencyID(1)) }
        let r2 = try await e.create(spec: spec, requester: "t", live: live, randomness: seeded(6))
        #expect(Self.totals(r2) == ["2024Q1": 6, "2024Q2": 0])
        // Follow-up from 2024-03-31 (the last day of 2024Q1) to 2024-06-30: 91 days, bin 90-119,
        // inside 2024Q1's support (at least 91 days); from its new report it would be 36 days.
        let t = table(r2, .timeToFirstDecision)
        let labels = r2.tables[t].info.cellLabels
        #expect(r2.tables[t].noisyCounts[labels.firstIndex(of: "90-119|censored")!] == 1)
        #expect(r2.tables[t].noisyCounts[labels.firstIndex(of: "30-59|censored")!] == 0)
    }

    /// Random event orders, late reports with earlier dates, voids of first reports, and releases
    /// over random cohort sets and cutoffs, interleaved. After each release the test records the
    /// pins; then every release's per-cohort totals must equal the number of cases it could see
    /// pinned to that cohort, and no pin may ever change: so every case is counted under exactly
    /// one cohort across all releases.
    @Test("randomised: every case is counted under exactly one cohort across all releases", arguments: [11, 12, 13] as [UInt64])
    func invariant(seed: UInt64) async throws {
        var rng = Xoshiro(seed: seed)
        let e = try await engine()
        let start = Day(iso: "2024-01-01")!
        let quarters = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1"].map { Quarter($0)! }
        // Per step, the events that arrive.
        var steps = [[CaseEvent]](repeating: [], count: 6)
        let cases = (0..<60).map { CasePseudonym(low: UInt64($0) + 1, high: seed) }
        for p in cases {
            let reports = (0..<(1 + rng.int(3))).map { _ in Self.report(p, start.adding(days: rng.int(450))) }
            for r in reports {
                let at = rng.int(6)
                steps[at].append(r)
                if rng.int(4) == 0 { steps[min(5, at + rng.int(3))].append(Self.void(r, on: r.day.adding(days: rng.int(30)))) }
            }
        }
        let live = ReplayedCases(CaseIndex(), lastBatch: 0)
        var history: [(release: Release, index: CaseIndex, pins: [CasePseudonym: Int])] = []
        var moved = 0
        for step in steps {
            var shuffled = step
            shuffled.shuffle(using: &rng)
            live.withMutableCaseIndex { $0.apply(shuffled, from: AgencyID(1 + UInt32(rng.int(2)))) }
            for _ in 0..<(1 + rng.int(2)) {
                let cutoffQuarter = quarters[1 + rng.int(quarters.count - 1)]
                var cohorts = quarters.filter { $0 <= cutoffQuarter && rng.int(3) > 0 }
                if cohorts.isEmpty { cohorts = [cutoffQuarter] }
                let spec = Self.exactSpec(cutoff: cutoffQuarter.lastDay!.iso, cohorts: cohorts.map(\.description))
                let before = live.snapshot()
                let r = try await e.create(spec: spec, requester: "t", live: live, randomness: seeded(rng.next()))
                let after = live.snapshot()
                #expect(Rebuild_digest(before) == Rebuild_digest(after), "a release changed the events")
                var pins: [CasePseudonym: Int] = [:]
                for (p, q) in after.pinnedCohorts() { pins[p] = q }
                for p in cases {
                    if let s = after.evaluation(of: p, asOf: Day(iso: spec.cutoff)!)?.summary, let q = pins[p],
                        q != Self.quarterNumber(s.cohort) { moved += 1 }
                }
                history.append((r, after, pins))
            }
        }
        let final = history.last!.pins
        for (r, index, pins) in history {
            let cutoff = Day(iso: r.metadata.cutoff)!
            var expected: [String: Int64] = [:]
            for c in r.metadata.cohorts { expected[c] = 0 }
            for p in cases {
                guard index.evaluation(of: p, asOf: cutoff)?.summary != nil, let q = pins[p] else { continue }
                let name = Quarter(year: 2000 + q / 4, quarter: q % 4 + 1)!.description
                if expected[name] != nil { expected[name]! += 1 }
                #expect(final[p] == q, "a pin changed")
            }
            #expect(Self.totals(r) == expected, "release \(r.metadata.id) counted a case outside its pinned cohort")
        }
        #expect(moved > 0, "the scenario never moved a pinned case; it tests nothing")
    }

    @Test("a dry run prints costs, remaining budgets and half-widths from the mechanism, and leaves the ledger and releases unchanged")
    func dryRunChangesNothing() async throws {
        let e = try await engine(budget: "1")
        let spec = ReleaseSpec(title: "plan", cutoff: "2024-12-31", cohorts: ["2024Q3", "2024Q4"], tables: [
            TableRequest(table: .attrition, rho: "1/8"), TableRequest(table: .victimUpdateRecency, breakdown: [.state], rho: "1/8"),
        ])
        func dump() async throws -> String {
            try await e.database.read { db in
                var out = ""
                for t in ["privacy_budget_change", "privacy_spend", "privacy_spend_scope", "release", "release_status", "release_draft"] {
                    for row in try await db.rows("SELECT * FROM \(t) ORDER BY 1, 2") { out += "\(t) \(row)\n" }
                }
                return out
            }
        }
        let before = try await dump()
        let plan = try await e.dryRun(spec: spec)
        #expect(try await dump() == before)
        #expect(plan.totalRho == "1/4")
        #expect(plan.cohorts.map(\.remainingAfterRho) == ["3/4", "3/4"])
        #expect(plan.wouldBeAdmitted)
        // ρ = 1/8: σ² = 4, the exact 95 % half-width is 4 (privacy-model §5 table).
        #expect(plan.tables.map(\.cellHalfWidth) == [4, 4])
        #expect(plan.tables[1].cellsPerCohort == 33 * 2)
        let share = plan.tables[0].headlines[0]
        #expect(share.cellsSummed == 2)
        // ≈ 1.96 · sd · √2 / n, sd ≈ 2.
        #expect(abs(share.byAssumedDenominator[0].halfWidth - 1.96 * plan.tables[0].noiseStandardDeviation * 2.0.squareRoot() / 100) < 1e-3)
        let over = try await e.dryRun(spec: ReleaseSpec(title: "too much", cutoff: "2024-12-31", cohorts: ["2024Q4"], tables: [TableRequest(table: .attrition, rho: "2")]))
        #expect(!over.wouldBeAdmitted && over.cohorts[0].remainingAfterRho == "-1")
        #expect(try await dump() == before)
    }

    @Test("a draft spends nothing until published; publishing charges once; a withdrawn release keeps its spend and is not listed as published")
    func draftPublishWithdraw() async throws {
        let e = try await engine(budget: "1")
        var index = CaseIndex()
        index.apply([Self.report(CasePseudonym(low: 1, high: 2), Day(iso: "2024-11-02")!)], from: AgencyID(1))
        let live = ReplayedCases(index, lastBatch: 0)
        let spec = ReleaseSpec(title: "draft", cutoff: "2024-12-31", cohorts: ["2024Q4"], tables: [TableRequest(table: .attrition, rho: "1/4")])
        let ledger = BudgetLedger(database: e.database)
        let scope = try Quarter(scope: "2024Q4")
        let draft = try await e.createDraft(spec: spec, requester: "steward")
        #expect(draft.row.status == .draft)
        #expect(try await ledger.balance(for: scope).spent.units == 0)
        #expect(try await e.list().isEmpty)
        let release = try await e.publishDraft(id: draft.row.id, requester: "steward", live: live)
        #expect(try await ledger.balance(for: scope).spent == RhoUnits.charging(Rational(1, 4)))
        #expect(try await e.draft(id: draft.row.id)?.row.releaseID == release.metadata.id)
        await #expect(throws: ReleaseError.self) { try await e.publishDraft(id: draft.row.id, requester: "steward", live: live) }
        #expect(try await ledger.balance(for: scope).spent == RhoUnits.charging(Rational(1, 4)))
        #expect(try await e.publishedList().map(\.id) == [release.metadata.id])
        try await e.withdraw(releaseID: release.metadata.id, by: "steward", reason: "wrong cutoff")
        #expect(try await e.publishedList().isEmpty)
        #expect(try await e.status(releaseID: release.metadata.id) == .withdrawn)
        #expect(try await ledger.balance(for: scope).spent == RhoUnits.charging(Rational(1, 4)))
        // Its pins stay: the noise was drawn and seen.
        #expect(live.snapshot().pinnedCount == 1)
        // A withdrawn draft was never charged.
        let other = try await e.createDraft(spec: spec, requester: "steward")
        try await e.withdrawDraft(id: other.row.id, by: "steward", reason: "not needed")
        await #expect(throws: ReleaseError.self) { try await e.publishDraft(id: other.row.id, requester: "steward", live: live) }
        #expect(try await ledger.balance(for: scope).spent == RhoUnits.charging(Rational(1, 4)))
    }
}

extension PinnedCohortTests {
    @Test("a release over a replayed index is refused, spending nothing, when the log has batches the replay did not see")
    func replayedIndexMustMatchTheLog() async throws {
        let e = try await engine(budget: "1")
        // The store holds no batch; an index claiming to be replayed through batch 5 is stale.
        let live = ReplayedCases(CaseIndex(), lastBatch: 5)
        let spec = ReleaseSpec(title: "stale", cutoff: "2024-12-31", cohorts: ["2024Q4"], tables: [TableRequest(table: .attrition, rho: "1/4")])
        var refusal: ReleaseError?
        do { _ = try await e.create(spec: spec, requester: "t", live: live, randomness: seeded(3)) } catch { refusal = error }
        guard case let .store(sentence)? = refusal else { Issue.record("not refused: \(String(describing: refusal))"); return }
        #expect(sentence.contains("POST /v1/releases"))
        #expect(try await BudgetLedger(database: e.database).entries().isEmpty)
        #expect(try await e.list().isEmpty)
    }

    @Test("release rows stay immutable and their status history is append-only")
    func statusHistoryIsAppendOnly() async throws {
        let e = try await engine(budget: "1")
        var index = CaseIndex()
        index.apply([Self.report(CasePseudonym(low: 1, high: 3), Day(iso: "2024-10-02")!)], from: AgencyID(1))
        let r = try await e.create(
            spec: ReleaseSpec(title: "s", cutoff: "2024-12-31", cohorts: ["2024Q4"], tables: [TableRequest(table: .attrition, rho: "1/4")]),
            requester: "t", live: ReplayedCases(index, lastBatch: 0), randomness: seeded(4))
        try await e.withdraw(releaseID: r.metadata.id, by: "t", reason: "test")
        _ = try await e.createDraft(spec: ReleaseSpec(title: "d", cutoff: "2024-12-31", cohorts: ["2024Q4"], tables: [TableRequest(table: .attrition, rho: "1/4")]), requester: "t")
        for sql in ["UPDATE release SET title = 'x'", "DELETE FROM release", "UPDATE release_status SET status = 'published'",
                    "DELETE FROM release_status", "UPDATE release_draft SET title = 'x'"] {
            await #expect(throws: (any Error).self, "\(sql)") { try await e.database.write { try await $0.execute(sql) } }
        }
        #expect(try await e.status(releaseID: r.metadata.id) == .withdrawn)
        await #expect(throws: ReleaseError.self) { try await e.withdraw(releaseID: r.metadata.id, by: "t", reason: "again") }
    }
}

/// A canonical digest of an index's events (not its pins): its snapshot bytes.
func Rebuild_digest(_ index: CaseIndex) -> [UInt8] { index.snapshot() }

/// xoshiro-like test generator with a fixed seed (splitmix64).
struct Xoshiro: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
