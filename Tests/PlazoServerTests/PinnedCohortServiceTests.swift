import Foundation
import GRDB
import PlazoApp
import PlazoCases
import PlazoIngest
import PlazoLedger
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

    static func submit(_ f: ServerFixture, to ingest: IngestService? = nil, _ events: [CaseEvent], other: Bool = false) async throws {
        let bytes = try BatchSealer.seal(
            events: events, agencyID: AgencyID(other ? f.otherID : f.agencyID), batchID: BatchID.random(), createdAt: Int64(Date().timeIntervalSince1970),
            signer: other ? f.other : f.agency, service: f.service.publicKey)
        _ = try await (ingest ?? f.ingest).submit(bytes)
    }

    /// The service's own case state, as `POST /v1/releases` reads and pins it.
    static func live(_ ingest: IngestService) -> any LiveCases {
        PlazoService(ingest: ingest).releases.cases
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
    func restartRestoresPins() async throws {
        let f = try await ServerFixture()
        let engine = ReleaseEngine(database: f.ingest.database)
        try await BudgetLedger(database: f.ingest.database).changeBudget(Rational(integer: 100_000), scope: nil, by: "t", reason: "exact test releases", confirmRaise: true)
        let a = CasePseudonym(low: 1, high: 9), b = CasePseudonym(low: 2, high: 9), c = CasePseudonym(low: 3, high: 9)
        try await Self.submit(f, [Self.report(a, "2024-05-10"), Self.report(b, "2024-08-20")])
        // Release 1 pins a (2024Q2) only: b's report is after its cutoff.
        _ = try await engine.create(spec: Self.spec(cutoff: "2024-06-30", cohorts: ["2024Q1", "2024Q2"]), requester: "t", live: Self.live(f.ingest))
        // a moves to 2024Q1 and b to 2024Q2 (late reports with earlier dates); c arrives in 2024Q1.
        try await Self.submit(f, [Self.report(a, "2024-02-01"), Self.report(b, "2024-06-15"), Self.report(c, "2024-03-03")], other: true)
        let r2 = try await engine.create(spec: Self.spec(cutoff: "2024-09-30", cohorts: ["2024Q1", "2024Q2", "2024Q3"]), requester: "t", live: Self.live(f.ingest))
        #expect(Self.totals(r2) == ["2024Q1": 1, "2024Q2": 2, "2024Q3": 0])
        // A batch after the last release: it must not be pinned by the replay.
        let d = CasePseudonym(low: 4, high: 9)
        try await Self.submit(f, [Self.report(d, "2024-03-05")])
        let livePins = Self.pins(f.ingest)
        #expect(livePins.count == 3)

        let restarted = try await IngestService(
            database: await AppDatabase.open(location: AppDatabase.testLocation(in: f.directory)), serviceKeys: [f.service], receiptKey: f.receiptKey)
        #expect(Self.pins(restarted) == livePins)
        // Release 1 alone re-applied at batch 2 instead of 1 would have pinned a to 2024Q1.
        let pinOfA: Int? = restarted.withCaseIndex { $0.pinnedCohortNumber(of: a) }
        let q2: Int = (2024 - 2000) * 4 + 1
        #expect(pinOfA == q2)
        let r3 = try await ReleaseEngine(database: restarted.database).create(
            spec: Self.spec(cutoff: "2024-09-30", cohorts: ["2024Q1", "2024Q2", "2024Q3"]), requester: "t", live: Self.live(restarted))
        #expect(Self.totals(r3) == ["2024Q1": 2, "2024Q2": 2, "2024Q3": 0])
        #expect(r3.metadata.batchWatermark == 3 && r3.metadata.batchesIncluded == 3 && r3.metadata.agenciesIncluded == 2)
    }

    @Test("a restart from the case-index snapshot gives the pins of a full replay: releases before it, at its watermark after it was written, and after it",
          .enabled(if: AppDatabase.testEngine == .sqlite, "the snapshot is kept beside a SQLite file"))
    func restartFromSnapshotRestoresPins() async throws {
        let f = try await ServerFixture()
        let store = f.directory + "/plazo.sqlite"
        func start(snapshot: Bool) async throws -> IngestService {
            try await IngestService(
                database: AppDatabase.open(path: store), serviceKeys: [f.service], receiptKey: f.receiptKey,
                snapshotPath: snapshot ? IndexSnapshot.path(forStore: store) : nil)
        }
        let service = try await start(snapshot: true)
        let engine = ReleaseEngine(database: service.database)
        try await BudgetLedger(database: service.database).changeBudget(Rational(integer: 100_000), scope: nil, by: "t", reason: "exact test releases", confirmRaise: true)
        let spec = Self.spec(cutoff: "2024-09-30", cohorts: ["2024Q1", "2024Q2", "2024Q3"])
        let a = CasePseudonym(low: 1, high: 8), b = CasePseudonym(low: 2, high: 8), c = CasePseudonym(low: 3, high: 8)
        let d = CasePseudonym(low: 4, high: 8), e = CasePseudonym(low: 5, high: 8)

        // Release 1 pins a to 2024Q2 at batch 1; the snapshot at batch 1 holds that pin.
        try await Self.submit(f, to: service, [Self.report(a, "2024-05-10"), Self.report(b, "2024-08-20")])
        _ = try await engine.create(spec: Self.spec(cutoff: "2024-06-30", cohorts: ["2024Q1", "2024Q2"]), requester: "t", live: Self.live(service))
        #expect(try await service.writeSnapshot()?.pinPointsApplied == 1)
        // Batch 2 moves a to 2024Q1 (recomputing release 1's pins now would pin a there) and b to
        // 2024Q2. The snapshot at batch 2 is written before release 2, whose watermark is batch 2.
        try await Self.submit(f, to: service, [Self.report(a, "2024-02-01"), Self.report(b, "2024-06-15"), Self.report(c, "2024-03-03")], other: true)
        #expect(try await service.writeSnapshot()?.watermark == 2)
        _ = try await engine.create(spec: spec, requester: "t", live: Self.live(service))
        // d appears in 2024Q3 after release 2, then moves to 2024Q1 before release 3 pins it: had
        // release 2's pinning been applied after batch 3, d would be pinned to 2024Q3.
        try await Self.submit(f, to: service, [Self.report(d, "2024-08-01")])
        try await Self.submit(f, to: service, [Self.report(d, "2024-01-15")], other: true)
        _ = try await engine.create(spec: spec, requester: "t", live: Self.live(service))
        try await Self.submit(f, to: service, [Self.report(e, "2024-03-05")])
        let livePins = Self.pins(service)
        let liveEvents = service.withCaseIndex { $0.snapshot() }
        #expect(livePins.count == 4)
        let q1: Int = (2024 - 2000) * 4
        let pinOfA: Int? = service.withCaseIndex { $0.pinnedCohortNumber(of: a) }
        let pinOfD: Int? = service.withCaseIndex { $0.pinnedCohortNumber(of: d) }
        #expect(pinOfA == q1 + 1)
        #expect(pinOfD == q1)

        let fromSnapshot = try await start(snapshot: true)
        guard case let .loaded(s) = fromSnapshot.startupSnapshot, s.watermark == 2, s.pinPointsApplied == 1, s.tailBatches == 3 else {
            Issue.record("\(fromSnapshot.startupSnapshot)")
            return
        }
        #expect(Self.pins(fromSnapshot) == livePins)
        #expect(fromSnapshot.withCaseIndex { $0.snapshot() } == liveEvents)
        let replayed = try await start(snapshot: false)
        #expect(Self.pins(replayed) == livePins)

        // The next snapshot holds all three releases' pins; a start from it replays nothing.
        #expect(try await fromSnapshot.writeSnapshot()?.pinPointsApplied == 3)
        let again = try await start(snapshot: true)
        guard case let .loaded(s) = again.startupSnapshot, s.watermark == 5, s.pinPointsApplied == 3, s.tailBatches == 0 else {
            Issue.record("\(again.startupSnapshot)")
            return
        }
        #expect(Self.pins(again) == livePins)
        // A release after a start from the snapshot counts moved cases by their pins, as the live service would.
        let r4 = try await ReleaseEngine(database: again.database).create(spec: spec, requester: "t", live: Self.live(again))
        #expect(Self.totals(r4) == ["2024Q1": 3, "2024Q2": 2, "2024Q3": 0])
    }

    @Test("a restart, by full replay or from the snapshot, gives the continual-release stream entries the live service held, and the next step follows on")
    func restartRestoresStreamEntries() async throws {
        let f = try await ServerFixture()
        let store = AppDatabase.testLocation(in: f.directory)
        let snapshotPath: String? = AppDatabase.testEngine == .sqlite ? IndexSnapshot.path(forStore: f.directory + "/plazo.sqlite") : nil
        func start(snapshot: Bool) async throws -> IngestService {
            try await IngestService(
                database: await AppDatabase.open(location: store), serviceKeys: [f.service], receiptKey: f.receiptKey,
                snapshotPath: snapshot ? snapshotPath : nil)
        }
        let service = try await start(snapshot: true)
        let engine = ReleaseEngine(database: service.database)
        try await BudgetLedger(database: service.database).changeBudget(Rational(integer: 100_000), scope: nil, by: "t", reason: "exact test releases", confirmRaise: true)
        func spec(_ cutoff: String) -> ReleaseSpec {
            // ρ = 100 per release: the decoded totals are exact after rounding.
            var s = ReleaseSpec(title: "continual", cutoff: cutoff, cohorts: ["2024Q1"], simulationReplicates: 20,
                                tables: [TableRequest(table: .chargeByHorizon, rho: "100", continual: true)])
            s.releasesPerCohort = 8
            return s
        }
        func charge(_ p: CasePseudonym, _ day: String) -> CaseEvent {
            CaseEvent(pseudonym: p, type: .chargeFiled, day: Day(iso: day)!, agencyType: .stateProsecutor)
        }
        let cases = (1...6).map { CasePseudonym(low: UInt64($0), high: 21) }
        try await Self.submit(f, to: service, cases.map { Self.report($0, "2024-01-15") } + [charge(cases[0], "2024-02-01")])
        _ = try await engine.create(spec: spec("2024-03-31"), requester: "t", live: Self.live(service))
        // Step 2: one charge in band 90-179, and a late report (not a member of the stream).
        try await Self.submit(f, to: service, [charge(cases[1], "2024-05-01"), Self.report(CasePseudonym(low: 99, high: 21), "2024-02-02")], other: true)
        _ = try await engine.create(spec: spec("2024-06-30"), requester: "t", live: Self.live(service))
        if snapshotPath != nil { #expect(try await service.writeSnapshot()?.pinPointsApplied == 2) }
        try await Self.submit(f, to: service, [charge(cases[2], "2024-08-01")])
        func entries(_ s: IngestService) -> [String] {
            s.withCaseIndex { $0.streamEntries().map { "\($0.pseudonym.low)=\($0.entry.raw)" } }
        }
        let live = entries(service)
        #expect(live.count == 6)

        for fromSnapshot in snapshotPath == nil ? [false] : [false, true] {
            let restarted = try await start(snapshot: fromSnapshot)
            #expect(entries(restarted) == live, "from snapshot: \(fromSnapshot)")
        }
        let restarted = try await start(snapshot: snapshotPath != nil)
        let r3 = try await ReleaseEngine(database: restarted.database).create(spec: spec("2024-09-30"), requester: "t", live: Self.live(restarted))
        #expect(Array(r3.tables[0].noisyCounts) == [1, 1, 1, 0, 3], "bands 0-89, 90-179 (held from steps 1 and 2) and 180-364 (199 days)")
        #expect(r3.tables[0].info.continual?.cohorts[0].step == 3)
    }

    @Test("under concurrent ingest, each release's batches, agencies and cases come from one watermark")
    func metadataUnderConcurrentIngest() async throws {
        let f = try await ServerFixture()
        let engine = ReleaseEngine(database: f.ingest.database)
        try await BudgetLedger(database: f.ingest.database).changeBudget(Rational(integer: 100_000), scope: nil, by: "t", reason: "exact test releases", confirmRaise: true)
        let batches = 60
        let done = Atomic<Bool>(false)
        let released = Atomic<Int>(0)
        let submitter = Task.detached {
            for i in 0..<batches {
                // Halfway, wait for a first release, so that releases certainly see several watermarks.
                if i == batches / 2 { while released.load(ordering: .sequentiallyConsistent) == 0 { await Task.yield() } }
                // Five new 2025Q1 cases per batch, alternating agencies.
                let events = (0..<5).map { k in Self.report(CasePseudonym(low: UInt64(i * 5 + k + 1), high: 3), "2025-02-10") }
                try await Self.submit(f, events, other: i % 2 == 1)
            }
            done.store(true, ordering: .sequentiallyConsistent)
        }
        var releases: [Release] = []
        while true {
            let finished = done.load(ordering: .sequentiallyConsistent)
            let r = try await engine.create(spec: Self.spec(cutoff: "2025-06-30", cohorts: ["2025Q1"]), requester: "t", live: Self.live(f.ingest))
            releases.append(r)
            released.store(releases.count, ordering: .sequentiallyConsistent)
            if finished { break }
            // The next release after the next batch (not a timing assertion: only pacing).
            while !done.load(ordering: .sequentiallyConsistent), try await f.ingest.counts().batches <= Int(r.metadata.batchWatermark ?? 0) {
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
