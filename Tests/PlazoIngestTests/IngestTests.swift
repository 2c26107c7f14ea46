import Foundation
import GRDB
import PlazoCases
import PlazoModel
import PlazoRandom
import PlazoSodium
import PlazoStore
import PlazoWire
import Testing

@testable import PlazoIngest

/// A service with two registered agencies over a fresh database file.
final class IngestFixture: @unchecked Sendable {
    let directory: String
    let service: BoxKeyPair
    let receiptKey: SigningKeyPair
    let police: SigningKeyPair
    let prosecutor: SigningKeyPair
    var policeID: AgencyID = 0
    var prosecutorID: AgencyID = 0
    let now: Int64 = 1_748_736_000  // 2025-06-01
    var database: AppDatabase
    var ingest: IngestService

    /// With `snapshot`, the service keeps a case-index snapshot beside the store.
    let snapshot: Bool

    init(snapshot: Bool = false) async throws {
        self.snapshot = snapshot
        directory = NSTemporaryDirectory() + "plazo-ingest-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        service = try BoxKeyPair.generate()
        receiptKey = try SigningKeyPair.generate()
        police = try SigningKeyPair.generate()
        prosecutor = try SigningKeyPair.generate()
        database = try await AppDatabase.open(location: AppDatabase.testLocation(in: directory))
        let registry = AgencyRegistry(database)
        policeID = try await registry.add(name: "Policía cibernética CDMX", type: .policeCyberUnit, publicKey: police.publicKey, now: now).id
        prosecutorID = try await registry.add(name: "Fiscalía CDMX", type: .stateProsecutor, publicKey: prosecutor.publicKey, now: now).id
        let now = self.now
        ingest = try await IngestService(
            database: database, serviceKeys: [service], receiptKey: receiptKey, clock: { now },
            snapshotPath: snapshot ? IndexSnapshot.path(forStore: directory + "/plazo.sqlite") : nil)
    }

    /// The case-index snapshot file beside the store.
    var snapshotPath: String { IndexSnapshot.path(forStore: directory + "/plazo.sqlite") }

    /// Reopens the database file and the pipeline, as after a restart.
    func restart(serviceKeys: [BoxKeyPair]? = nil) async throws {
        database = try await AppDatabase.open(location: AppDatabase.testLocation(in: directory))
        let now = self.now
        ingest = try await IngestService(
            database: database, serviceKeys: serviceKeys ?? [service], receiptKey: receiptKey, clock: { now },
            snapshotPath: snapshot ? snapshotPath : nil)
    }

    func seal(_ events: [CaseEvent], by agency: SigningKeyPair? = nil, agencyID: AgencyID? = nil, batchID: BatchID? = nil, createdAt: Int64? = nil) throws -> [UInt8] {
        try BatchSealer.seal(
            events: events, agencyID: agencyID ?? policeID, batchID: batchID ?? BatchID.random(), createdAt: createdAt ?? now,
            signer: agency ?? police, service: service.publicKey
        )
    }

    static func event(_ caseNumber: UInt64, _ type: EventType, _ day: Int, detail: UInt8 = 0, agencyType: AgencyType = .policeCyberUnit) -> CaseEvent {
        CaseEvent(
            pseudonym: CasePseudonym(low: caseNumber, high: 0xC0FFEE), type: type, detail: detail,
            day: Day(year: 2024, month: 1, day: 1)!.adding(days: day),
            attributes: type == .reportReceived
                ? CaseAttributes(offence: .sexualExtortion, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: 14)!, channel: .platformReferral)
                : .unknown,
            agencyType: agencyType
        )
    }

    /// What the store holds: its batches, and the distinct events and cases of a fresh replay of
    /// its log (what a restart would load). The live service must agree with it.
    func storedCounts() async throws -> (batches: Int, events: Int, cases: Int) {
        let replayed = try await BatchLogReplay.replay(ingest.log, serviceKeys: [service])
        let stored = (try await ingest.log.batchCount(), replayed.eventCount, replayed.caseCount)
        let live = try await ingest.counts()
        #expect(live == stored, "the live index differs from a replay of the log")
        return stored
    }
}

@Suite("Ingest pipeline")
struct IngestTests {
    typealias F = IngestFixture

    /// The error a submission is refused with, or nil if it was accepted.
    func refusal(_ f: F, _ bytes: [UInt8]) async -> IngestError? {
        do throws(IngestError) {
            _ = try await f.ingest.submit(bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test("an accepted batch is stored with its events and answered with a receipt that verifies")
    func accepted() async throws {
        let f = try await F()
        let events = [F.event(1, .reportReceived, 0), F.event(1, .investigationOpened, 5), F.event(2, .reportReceived, 3)]
        let bytes = try f.seal(events)
        let result = try await f.ingest.submit(bytes)
        #expect(!result.replayed)
        #expect(result.receipt.accepted == 3 && result.receipt.newEvents == 3 && result.receipt.rejected.isEmpty)
        try Receipt.parse(result.receiptBytes).verify(serviceKey: f.receiptKey.publicKey, batch: bytes)
        #expect(try await f.storedCounts() == (1, 3, 2))
        #expect(f.ingest.withCaseIndex { $0.eventCount } == 3)
    }

    @Test("the same bytes again return the original receipt and change nothing")
    func replay() async throws {
        let f = try await F()
        let bytes = try f.seal([F.event(1, .reportReceived, 0)])
        let first = try await f.ingest.submit(bytes)
        let second = try await f.ingest.submit(bytes)
        #expect(second.replayed)
        #expect(second.receiptBytes == first.receiptBytes)
        #expect(try await f.storedCounts() == (1, 1, 1))
    }

    @Test("a different batch reusing an accepted batch id is refused as batch_id_reused and not stored")
    func reusedID() async throws {
        let f = try await F()
        let id = try BatchID.random()
        _ = try await f.ingest.submit(try f.seal([F.event(1, .reportReceived, 0)], batchID: id))
        let error = await refusal(f, try f.seal([F.event(2, .reportReceived, 0)], batchID: id))
        #expect(error?.code == "batch_id_reused")
        if case .batchIDReused = error {} else { Issue.record("expected batchIDReused, got \(String(describing: error))") }
        #expect(try await f.storedCounts() == (1, 1, 1))
    }

    @Test("the same event sent in two batches, by two agencies, counts once")
    func duplicatesAcrossBatches() async throws {
        let f = try await F()
        let shared = F.event(7, .chargeFiled, 30, agencyType: .stateProsecutor)
        let r1 = try await f.ingest.submit(try f.seal([F.event(7, .reportReceived, 0), shared]))
        let r2 = try await f.ingest.submit(try f.seal([shared, shared], by: f.prosecutor, agencyID: f.prosecutorID))
        #expect(r1.receipt.newEvents == 2)
        #expect(r2.receipt.accepted == 2 && r2.receipt.newEvents == 0)
        #expect(try await f.storedCounts() == (2, 2, 1))
    }

    @Test("an event first sent by a larger agency id and then by a smaller one is attributed alike live and in a rebuild")
    func attributionFollowsSmallestAgency() async throws {
        let f = try await F()
        let shared = F.event(3, .chargeFiled, 10, agencyType: .stateProsecutor)
        _ = try await f.ingest.submit(try f.seal([F.event(3, .reportReceived, 0), shared], by: f.prosecutor, agencyID: f.prosecutorID))
        _ = try await f.ingest.submit(try f.seal([shared]))  // police: the smaller id
        let live = f.ingest.withCaseIndex { index in index.events(of: shared.pseudonym)?.first { $0.event == shared }?.agency }
        #expect(live == f.policeID)
        let (_, report) = try await Rebuild.recompute(log: f.ingest.log, registry: f.ingest.registry, serviceKeys: [f.service])
        #expect(report.matches)
        #expect(report.rebuiltDigest == f.ingest.withCaseIndex { Rebuild.digest(of: $0) })
    }

    @Test("refused batches store nothing and each gets its own reason")
    func refusals() async throws {
        let f = try await F()
        let good = try f.seal([F.event(1, .reportReceived, 0)])
        func reason(_ bytes: [UInt8]) async -> String? { await refusal(f, bytes)?.code }
        var flipped = good
        flipped[200] ^= 1
        await #expect(reason(flipped) == "bad_signature")
        await #expect(reason(Array(good.prefix(100))) == "truncated")
        await #expect(reason(try f.seal([F.event(1, .reportReceived, 0)], agencyID: 99)) == "unknown_agency")
        await #expect(reason(try f.seal([F.event(1, .reportReceived, 0)], by: f.prosecutor)) == "unknown_signing_key")
        await #expect(reason(try f.seal([F.event(1, .reportReceived, 0)], createdAt: f.now + 3600)) == "timestamp_in_future")
        await #expect(reason(try f.seal([F.event(1, .reportReceived, 0)], createdAt: f.now - 40 * 86_400)) == "timestamp_too_old")
        // Agency A's sealed payload under agency B's signed header.
        let header = try BatchHeader.parse(good)
        var lifted = BatchHeader(
            agencyID: f.prosecutorID, recordCount: header.recordCount, signingKeyID: KeyID.of(f.prosecutor.publicKey),
            batchID: header.batchID, createdAt: header.createdAt, serviceKeyID: header.serviceKeyID
        ).encoded() + good[64..<(good.count - 64)]
        lifted += try Signature.sign(lifted, with: f.prosecutor)
        await #expect(reason(lifted) == "payload_header_mismatch")
        #expect(try await f.storedCounts() == (0, 0, 0))
    }

    @Test("after a rotation the old key is refused; after a revocation the revoked key is refused; earlier batches stay")
    func rotationAndRevocation() async throws {
        let f = try await F()
        _ = try await f.ingest.submit(try f.seal([F.event(1, .reportReceived, 0)]))
        let newKey = try SigningKeyPair.generate()
        _ = try await f.ingest.registry.rotate("\(f.policeID.rawValue)", newKey: newKey.publicKey, now: f.now)
        await #expect(refusal(f, try f.seal([F.event(2, .reportReceived, 0)]))?.code == "revoked_signing_key")
        _ = try await f.ingest.submit(try f.seal([F.event(2, .reportReceived, 0)], by: newKey))
        _ = try await f.ingest.registry.revoke("Fiscalía CDMX", now: f.now)
        await #expect(refusal(f, try f.seal([F.event(3, .reportReceived, 0)], by: f.prosecutor, agencyID: f.prosecutorID))?.code == "revoked_signing_key")
        #expect(try await f.storedCounts() == (2, 2, 2))
    }

    @Test("invalid records are listed in the receipt; the rest of the batch is stored")
    func partialBatch() async throws {
        let f = try await F()
        var future = F.event(1, .chargeFiled, 0)
        future.day = Day(unixSeconds: f.now)!.adding(days: 5)
        let result = try await f.ingest.submit(try f.seal([F.event(1, .reportReceived, 0), future]))
        #expect(result.receipt.accepted == 1)
        #expect(result.receipt.rejected == [.init(index: 1, reason: .dayInFuture)])
    }

    @Test("no decrypted event reaches the database file: the store holds batches only as sealed",
          .enabled(if: AppDatabase.testEngine == .sqlite, "scans the SQLite file"))
    func nothingDecryptedAtRest() async throws {
        let f = try await F()
        let events = (0..<50).map { F.event(UInt64(1_000 + $0), .reportReceived, $0) }
        let bytes = try f.seal(events)
        _ = try await f.ingest.submit(bytes)
        // Read the main file and the WAL as raw bytes (the WAL holds the commit until a checkpoint).
        var onDisk = Data()
        for suffix in ["", "-wal"] {
            if let data = FileManager.default.contents(atPath: f.directory + "/plazo.sqlite" + suffix) { onDisk += data }
        }
        func occurs(_ needle: [UInt8]) -> Bool { onDisk.range(of: Data(needle)) != nil }
        // Positive control: the sealed batch itself is there, so the scan can see stored bytes.
        #expect(occurs(Array(bytes[64..<128])))
        // No record's plaintext, nor even a pseudonym alone, is anywhere in the files.
        for event in events {
            let record = EventRecord.encode(event)
            #expect(!occurs(Array(record[0..<16])), "a pseudonym is stored in plaintext")
            #expect(!occurs(record))
        }
        #expect(try await !f.database.sqlite!.read { db in try db.tableExists("case_event") })
    }

    @Test("rebuild refuses a receipt that does not agree with the replay of its batch")
    func rebuildChecksReceipts() async throws {
        let f = try await F()
        _ = try await f.ingest.submit(try f.seal([F.event(1, .reportReceived, 0), F.event(2, .reportReceived, 0)]))
        let second = try await f.ingest.submit(try f.seal([F.event(1, .reportReceived, 0), F.event(3, .reportReceived, 1)]))
        #expect(second.receipt.newEvents == 1)
        var report = try await Rebuild.recompute(log: f.ingest.log, registry: f.ingest.registry, serviceKeys: [f.service], receiptKey: f.receiptKey.publicKey).1
        #expect(report.matches)

        // A receipt that claims two new events, correctly signed (as a counting bug would sign it).
        var wrong = second.receipt
        wrong.newEvents = 2
        try wrong.sign(with: f.receiptKey)
        try await f.database.write { db in
            try await db.execute("UPDATE batch SET receipt = ? WHERE batch_id = ?", wrong.encoded(), wrong.batchID.bytes)
        }
        report = try await Rebuild.recompute(log: f.ingest.log, registry: f.ingest.registry, serviceKeys: [f.service], receiptKey: f.receiptKey.publicKey).1
        #expect(report.mismatches.count == 1)
        #expect(report.mismatches.first?.seq == 2)
        #expect(report.mismatches.first?.reason.contains("new events 2, replay 1") == true)

        // The original counts, signed by a key that is not the service's: the signature check fails.
        var forged = second.receipt
        try forged.sign(with: try SigningKeyPair.generate())
        try await f.database.write { db in
            try await db.execute("UPDATE batch SET receipt = ? WHERE batch_id = ?", forged.encoded(), forged.batchID.bytes)
        }
        report = try await Rebuild.recompute(log: f.ingest.log, registry: f.ingest.registry, serviceKeys: [f.service], receiptKey: f.receiptKey.publicKey).1
        #expect(report.mismatches.map(\.seq) == [2])
        #expect(report.mismatches.first?.reason.contains("signature") == true)
    }

    @Test("start-up refuses, naming the batch, a store whose batches were sealed to a key it was not given")
    func startUpNeedsEveryServiceKey() async throws {
        let f = try await F()
        _ = try await f.ingest.submit(try f.seal([F.event(1, .reportReceived, 0)]))
        let other = try BoxKeyPair.generate()
        await #expect {
            _ = try await IngestService(database: f.database, serviceKeys: [other], receiptKey: f.receiptKey)
        } throws: { error in
            guard case let .batchUnreadable(seq, _) = error as? BatchLogReplay.Failure else { return false }
            return seq == 1
        }
        // With the old key kept as a retired key (a rotation), the state comes back; a new batch
        // sealed to the retired key is refused, one sealed to the new key is accepted.
        let now = f.now
        let rotated = try await IngestService(
            database: f.database, serviceKeys: [other], retiredServiceKeys: [f.service], receiptKey: f.receiptKey, clock: { now }
        )
        #expect(try await rotated.counts() == (1, 1, 1))
        let toRetiredKey = try f.seal([F.event(2, .reportReceived, 0)])
        do throws(IngestError) {
            _ = try await rotated.submit(toRetiredKey)
            Issue.record("a batch sealed to a retired key was accepted")
        } catch {
            #expect(error.code == "unknown_service_key")
        }
        let toNewKey = try BatchSealer.seal(
            events: [F.event(3, .reportReceived, 0)], agencyID: f.policeID, batchID: BatchID.random(), createdAt: f.now,
            signer: f.police, service: other.publicKey
        )
        #expect(try await rotated.submit(toNewKey).receipt.newEvents == 1)
        #expect(try await rotated.counts() == (2, 2, 2))
    }

    @Test("state after a restart, and a rebuild from the batch log, equal the incrementally built state")
    func rebuildEquivalence() async throws {
        let f = try await F()
        var rng = SplitMix64(seed: 20_261_129)
        var sent: [[UInt8]] = []
        for batch in 0..<12 {
            var events: [CaseEvent] = []
            for _ in 0..<40 {
                let c = rng.next() % 25
                let type = EventType(rawValue: UInt8(1 + rng.next() % 10))!
                let detail: UInt8 = type.detailAttribute == nil ? 0 : UInt8(rng.next() % 3)
                events.append(F.event(c, type, Int(rng.next() % 400), detail: detail))
            }
            if batch % 3 == 2, let target = events.first {
                var void = F.event(target.pseudonym.low, .void, 500)
                void.target = EventReference(type: target.type, detail: target.detail, day: target.day)
                events.append(void)
            }
            let byProsecutor = batch % 2 == 1
            let bytes = try f.seal(events, by: byProsecutor ? f.prosecutor : f.police, agencyID: byProsecutor ? f.prosecutorID : f.policeID)
            sent.append(bytes)
            _ = try await f.ingest.submit(bytes)
            if batch % 4 == 0 { _ = try await f.ingest.submit(sent[Int(rng.next() % UInt64(sent.count))]) }  // replays
        }
        let live = f.ingest.withCaseIndex { Rebuild.digest(of: $0) }
        let (_, report) = try await Rebuild.recompute(log: f.ingest.log, registry: f.ingest.registry, serviceKeys: [f.service])
        #expect(report.batches == 12)
        #expect(report.matches)
        #expect(report.rebuiltDigest == live)
        try await f.restart()
        #expect(f.ingest.withCaseIndex { Rebuild.digest(of: $0) } == live)
    }
}

/// The per-agency quality report and worklists (issue 12): only the agency's own events count.
@Suite("Agency quality reports")
struct QualityReportTests {
    typealias F = IngestFixture

    @Test("each agency sees findings and worklists from its own events only; rejected rows come from its receipts")
    func ownEventsOnly() async throws {
        let f = try await F()
        let cutoff = Day(year: 2025, month: 6, day: 1)!
        // Case 1: the police report it (day 0) and inform the victim (day 10); the prosecutor charges it (day 200).
        // Case 2: the police report it (day 100), nothing since. Case 3: the prosecutor voids an event it never sent.
        _ = try await f.ingest.submit(f.seal([F.event(1, .reportReceived, 0), F.event(1, .victimInformed, 10, detail: 1), F.event(2, .reportReceived, 100)]))
        var void = F.event(3, .void, 300, agencyType: .stateProsecutor)
        void.target = EventReference(type: .chargeFiled, detail: 0, day: Day(year: 2024, month: 1, day: 1)!.adding(days: 250))
        _ = try await f.ingest.submit(f.seal(
            [F.event(1, .chargeFiled, 200, agencyType: .stateProsecutor), void,
             F.event(4, .reportReceived, 1000, agencyType: .stateProsecutor)],  // 2026-09-27: after the batch's day, rejected
            by: f.prosecutor, agencyID: f.prosecutorID))

        let police = try await f.ingest.qualityReport(agency: f.policeID, asOf: cutoff)
        #expect(police.cases == 2 && police.events == 3 && police.openCases == 2)
        // By the police's own events case 1 has no decision: the prosecutor's charge does not show.
        #expect(Set(police.longestWaitingForDecision.map(\.pseudonym)) == Set([1, 2].map { CasePseudonym(low: $0, high: 0xC0FFEE).hex }))
        #expect(police.longestWaitingForDecision.first?.pseudonym == CasePseudonym(low: 1, high: 0xC0FFEE).hex)  // oldest first
        #expect(police.noVictimUpdate90Days.count == 2 && police.noVictimUpdate90DaysTotal == 2)
        #expect(police.findings["no_report"] == 0 && police.findings["unmatched_void"] == 0)
        #expect(police.rejectedAtIngest.isEmpty)

        let prosecutor = try await f.ingest.qualityReport(agency: f.prosecutorID, asOf: cutoff)
        // Its charge of case 1 has no report of its own (the police's report is not its to see),
        // its void matches nothing it sent, and the future-dated report was rejected at ingest.
        #expect(prosecutor.findings["no_report"] == 1 && prosecutor.findings["unmatched_void"] == 1, "\(prosecutor.findings)")
        #expect(prosecutor.openCases == 0 && prosecutor.longestWaitingForDecision.isEmpty)
        #expect(prosecutor.rejectedAtIngest["day_in_future"] == 1)
        let json = String(decoding: try JSONEncoder().encode(prosecutor), as: UTF8.self)
        #expect(!json.contains(CasePseudonym(low: 2, high: 0xC0FFEE).hex))
    }
}
