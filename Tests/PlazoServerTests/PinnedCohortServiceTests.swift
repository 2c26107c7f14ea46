import Foundation
import GRDB
import PlazoCases
import PlazoIngest
import PlazoModel
import PlazoPrivacy
import PlazoReleases
import PlazoSodium
import PlazoStore
import PlazoWire
import Synchronization
import Testing

/// Pins and watermarks through the real ingest pipeline: restarts, concurrent ingest.
@Suite("Pinned cohorts in the service")
struct PinnedCohortServiceTests {
    static let attributes = CaseAttributes(offence: .onlineGrooming, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: 9)!, channel: .hotline)

    static func report(_ p: CasePseudonym, _ day: String) -> CaseEvent {
        CaseEvent(pseudonym: p, type: .reportReceived, day: Day(iso: day)!, attributes: attributes, agencyType: .stateProsecutor)
    }

    static func submit(_ f: ServerFixture, _ events: [CaseEvent], other: Bool = false) throws {
        let bytes = try BatchSealer.seal(
            events: events, agencyID: AgencyID(other ? f.otherID : f.agencyID), batchID: BatchID.random(), createdAt: Int64(Date().timeIntervalSince1970),
            signer: other ? f.other : f.agency, service: f.service.publicKey)
        _ = try f.ingest.submit(bytes)
    }

    static func live(_ ingest: IngestService) -> LiveCaseState {
        LiveCaseState { body in ingest.withMutableCaseIndex(body) }
    }

    /// Exact counts.
    /// ρ = 100 per table: N_ℤ(0, 1/200) is 0 except with probability ≈ 2e^(−100).
    static func spec(cutoff: String, cohorts: [String]) -> ReleaseSpec {
        ReleaseSpec(title: "exact", cutoff: cutoff, cohorts: cohorts, simulationReplicates: 20, tables: [TableRequest(table: .attrition, rho: "100")])
    }

    static func totals(_ r: Release) -> [String: Int64] {
        let cells = r.tables[0].info.cellLabels.count
        var out: [String: Int64] = [:]
        for (g, c) in r.metadata.cohorts.enumerated() { out[c] = r.tables[0].noisyCounts[(g * cells)..<((g + 1) * cells)].reduce(0, +) }
        return out
    }

    static func pins(_ ingest: IngestService) -> [String] {
        ingest.withCaseIndex { index in index.pinnedCohorts().map { "\($0.pseudonym.low):\($0.pseudonym.high)=\($0.cohort)" } }
    }

    @Test("a restart gives identical pins, re-applied at each release's batch watermark, and later releases still count moved cases by their pin")
    func restartRestoresPins() throws {
        let f = try ServerFixture()
        let engine = ReleaseEngine(database: f.ingest.database)
        try BudgetLedger(database: f.ingest.database).changeBudget(Rational(integer: 100_000), scope: nil, by: "t", reason: "exact test releases", confirmRaise: true)
        let a = CasePseudonym(low: 1, high: 9), b = CasePseudonym(low: 2, high: 9), c = CasePseudonym(low: 3, high: 9)
        try Self.submit(f, [Self.report(a, "2024-05-10"), Self.report(b, "2024-08-20")])
        // Release 1 pins a (2024Q2) only: b's report is after its cutoff.
        _ = try engine.create(spec: Self.spec(cutoff: "2024-06-30", cohorts: ["2024Q1", "2024Q2"]), requester: "t", live: Self.live(f.ingest))
        // a moves to 2024Q1 and b to 2024Q2 (late reports with earlier dates); c arrives in 2024Q1.
        try Self.submit(f, [Self.report(a, "2024-02-01"), Self.report(b, "2024-06-15"), Self.report(c, "2024-03-03")], other: true)
        let r2 = try engine.create(spec: Self.spec(cutoff: "2024-09-30", cohorts: ["2024Q1", "2024Q2", "2024Q3"]), requester: "t", live: Self.live(f.ingest))
        #expect(Self.totals(r2) == ["2024Q1": 1, "2024Q2": 2, "2024Q3": 0])
        // A batch after the last release: it must not be pinned by the replay.
        let d = CasePseudonym(low: 4, high: 9)
        try Self.submit(f, [Self.report(d, "2024-03-05")])
        let livePins = Self.pins(f.ingest)
        #expect(livePins.count == 3)

        let restarted = try IngestService(database: AppDatabase.open(path: f.directory + "/plazo.sqlite"), serviceKeys: [f.service], receiptKey: f.receiptKey)
        #expect(Self.pins(restarted) == livePins)
        // Release 1 alone re-applied at batch 2 instead of 1 would have pinned a to 2024Q1.
        let pinOfA: Int? = restarted.withCaseIndex { $0.pinnedCohortNumber(of: a) }
        let q2: Int = (2024 - 2000) * 4 + 1
        #expect(pinOfA == q2)
        let r3 = try ReleaseEngine(database: restarted.database).create(
            spec: Self.spec(cutoff: "2024-09-30", cohorts: ["2024Q1", "2024Q2", "2024Q3"]), requester: "t", live: Self.live(restarted))
        #expect(Self.totals(r3) == ["2024Q1": 2, "2024Q2": 2, "2024Q3": 0])
        #expect(r3.metadata.batchWatermark == 3 && r3.metadata.batchesIncluded == 3 && r3.metadata.agenciesIncluded == 2)
    }

    @Test("under concurrent ingest, each release's batches, agencies and cases come from one watermark")
    func metadataUnderConcurrentIngest() async throws {
        let f = try ServerFixture()
        let engine = ReleaseEngine(database: f.ingest.database)
        try BudgetLedger(database: f.ingest.database).changeBudget(Rational(integer: 100_000), scope: nil, by: "t", reason: "exact test releases", confirmRaise: true)
        let batches = 60
        let done = Atomic<Bool>(false)
        let released = Atomic<Int>(0)
        let submitter = Task.detached {
            for i in 0..<batches {
                // Halfway, wait for a first release, so that releases certainly see several watermarks.
                if i == batches / 2 { while released.load(ordering: .sequentiallyConsistent) == 0 { await Task.yield() } }
                // Five new 2025Q1 cases per batch, alternating agencies.
                let events = (0..<5).map { k in Self.report(CasePseudonym(low: UInt64(i * 5 + k + 1), high: 3), "2025-02-10") }
                try Self.submit(f, events, other: i % 2 == 1)
            }
            done.store(true, ordering: .sequentiallyConsistent)
        }
        var releases: [Release] = []
        while true {
            let finished = done.load(ordering: .sequentiallyConsistent)
            let r = try engine.create(spec: Self.spec(cutoff: "2025-06-30", cohorts: ["2025Q1"]), requester: "t", live: Self.live(f.ingest))
            releases.append(r)
            released.store(releases.count, ordering: .sequentiallyConsistent)
            if finished { break }
            // The next release after the next batch (not a timing assertion: only pacing).
            while !done.load(ordering: .sequentiallyConsistent), try f.ingest.counts().batches <= Int(r.metadata.batchWatermark ?? 0) {
                await Task.yield()
            }
        }
        try await submitter.value
        #expect(releases.count >= 2)
        // The releases really interleaved with ingest (otherwise the test shows nothing).
        let watermarks = Set(releases.compactMap(\.metadata.batchWatermark))
        #expect(watermarks.count >= 2, "watermarks seen: \(watermarks.sorted())")
        for r in releases {
            let w = try #require(r.metadata.batchWatermark)
            // Batches are numbered 1, 2, … in acceptance order, each with five new cases.
            #expect(r.metadata.batchesIncluded == Int(w))
            #expect(r.metadata.agenciesIncluded == min(Int(w), 2))
            #expect(Self.totals(r)["2025Q1"] == 5 * w, "release \(r.metadata.id): data and watermark \(w) disagree")
        }
    }
}
