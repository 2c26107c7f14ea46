import Foundation
import PlazoCases
import PlazoLedger
import PlazoModel
@_spi(Testing) import PlazoPrivacy
@_spi(Testing) @testable import PlazoReleases
import PlazoRandom
import PlazoStore
import Testing

@Suite struct ProjectionTests {
    /// Cases as real events: the projection of the live index equals the projection of its
    /// summaries, and the cache reuses it only while no event arrives. 70,000 cases take the
    /// two-thread path of the projection (two parts of the index evaluated concurrently).
    @Test(arguments: [400, 70_000])
    func projectionOfAnIndexMatchesItsSummariesAndCacheInvalidates(cases: Int) throws {
        var index = CaseIndex()
        var rng = TestRNG(5)
        func event(_ c: Int, _ type: EventType, _ day: Day, detail: UInt8 = 0) -> CaseEvent {
            CaseEvent(
                pseudonym: CasePseudonym(low: UInt64(c) &* 0x9E37_79B9_7F4A_7C15 | 1, high: UInt64(c)), type: type,
                detail: detail, day: day,
                attributes: type == .reportReceived
                    ? CaseAttributes(offence: .sexualExtortion, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: UInt8(c % 33))!, channel: .hotline)
                    : .unknown,
                agencyType: .stateProsecutor)
        }
        var events: [CaseEvent] = []
        for c in 0..<cases {
            let report = Day(iso: "2025-01-01")!.adding(days: rng.int(180))
            events.append(event(c, .reportReceived, report))
            switch rng.int(4) {
            case 0: events.append(event(c, .chargeFiled, report.adding(days: rng.int(300))))
            case 1: events.append(event(c, .closedWithoutCharge, report.adding(days: rng.int(300)), detail: 1))
            case 2: events.append(event(c, .suspended, report.adding(days: rng.int(300)), detail: 1))
            default: break
            }
            if rng.int(2) == 0 { events.append(event(c, .victimInformed, report.adding(days: rng.int(120)), detail: 1)) }
        }
        _ = index.apply(events, from: AgencyID(1))
        let cutoff = Day(iso: "2025-09-30")!
        let live = CaseProjection(index: index, cutoff: cutoff)
        let fromSummaries = CaseProjection(summaries: index.summaries(asOf: cutoff), cutoff: cutoff)
        #expect(live.codes.sorted() == fromSummaries.codes.sorted())
        #expect(live.codes.count == cases)

        let cache = ProjectionCache(capacity: 2)
        let a = cache.projection(of: index, cutoff: cutoff)
        let b = cache.projection(of: index, cutoff: cutoff)
        #expect(a.codes == b.codes)
        _ = index.apply(event(cases + 1000, .reportReceived, Day(iso: "2025-03-01")!), from: AgencyID(1))
        #expect(cache.projection(of: index, cutoff: cutoff).codes.count == cases + 1)
    }

    /// The Laplace mechanism: each table costs ε and is charged ε²/2 zCDP in every cohort.
    @Test func laplaceReleaseIsChargedEpsilonSquaredOverTwo() async throws {
        let cutoff = Day(iso: "2026-06-30")!
        let cases = Synthetic.summaries(count: 500, cohorts: [Quarter("2025Q1")!], cutoff: cutoff, seed: 41)
        let db = try await AppDatabase.forTesting()
        let ledger = BudgetLedger(database: db)
        try await ledger.setDefaultBudget(Rational(parsing: "1"), by: "steward")
        let s = ReleaseSpec(
            title: "laplace", cutoff: "2026-06-30", cohorts: ["2025Q1"], mechanism: .discreteLaplace, simulationReplicates: 20,
            tables: [TableRequest(table: .attrition, epsilon: "1/2"), TableRequest(table: .backlog, breakdown: [.state], epsilon: "1/2")])
        let r = try await ReleaseEngine(database: db).create(
            spec: s, requester: "t", projection: CaseProjection(summaries: cases, cutoff: cutoff), randomness: seeded(3))
        #expect(r.metadata.totalRho == "1/4")
        #expect(r.tables[0].info.laplaceScale == "2")
        #expect(try await ledger.balance(for: Quarter(scope: "2025Q1")).spent == RhoUnits.charging(Rational(parsing: "1/4")))
        // Every group of the state breakdown exists, including states with no case.
        #expect(r.tables[1].groupCount == 33)
    }
}
