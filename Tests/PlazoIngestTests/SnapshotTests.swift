import Foundation
import PlazoCases
import PlazoModel
import PlazoRandom
import PlazoSodium
import PlazoStore
import PlazoWire
import Testing

@testable import PlazoIngest

/// The case-index snapshot: a start from it plus the later batches gives exactly the state of a
/// full replay, and any snapshot that does not belong to the store is ignored, never trusted.
// The snapshot is kept beside a SQLite file; a PostgreSQL replica replays and follows the log instead.
@Suite("Case-index snapshot", .enabled(if: AppDatabase.testEngine == .sqlite))
struct SnapshotTests {
    typealias F = IngestFixture

    /// Submits `count` batches of random events over a small pool of cases (duplicates, voids,
    /// both agencies), and sometimes a batch again.
    static func submit(_ f: F, _ count: Int, seed: UInt64) async throws {
        var rng = SplitMix64(seed: seed)
        for batch in 0..<count {
            var events: [CaseEvent] = []
            for _ in 0..<40 {
                let type = EventType(rawValue: UInt8(1 + rng.next() % 10))!
                let detail: UInt8 = type.detailAttribute == nil ? 0 : UInt8(rng.next() % 3)
                events.append(F.event(rng.next() % 30, type, Int(rng.next() % 400), detail: detail))
            }
            if batch % 2 == 1, let target = events.first {
                var void = F.event(target.pseudonym.low, .void, 500)
                void.target = EventReference(type: target.type, detail: target.detail, day: target.day)
                events.append(void)
            }
            let byProsecutor = rng.next() % 2 == 1
            let bytes = try f.seal(events, by: byProsecutor ? f.prosecutor : f.police, agencyID: byProsecutor ? f.prosecutorID : f.policeID)
            _ = try await f.ingest.submit(bytes)
            if batch % 3 == 0 { _ = try await f.ingest.submit(bytes) }  // the same bytes again: nothing changes
        }
    }

    /// The canonical bytes of a replay of the whole log.
    static func fullReplay(_ log: BatchLog, keys: [BoxKeyPair], pinPoints: [ReleasePinPoint] = []) async throws -> [UInt8] {
        try await BatchLogReplay.replay(log, serviceKeys: keys, pinPoints: pinPoints).index.snapshot()
    }

    static func live(_ ingest: IngestService) -> [UInt8] { ingest.withCaseIndex { $0.snapshot() } }

    @Test("a restart loads the snapshot, replays only the later batches, and has the index a full replay gives, byte for byte")
    func snapshotAndTail() async throws {
        let f = try await F(snapshot: true)
        try await Self.submit(f, 6, seed: 1)
        let written = try #require(try await f.ingest.writeSnapshot())
        let events = try await f.ingest.counts().events
        #expect(written.watermark == 6 && written.events == events)
        #expect(try await f.ingest.writeSnapshot() == nil, "nothing changed: nothing written")
        var info = stat()
        #expect(stat(f.snapshotPath, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(!FileManager.default.fileExists(atPath: f.snapshotPath + ".tmp"))
        try await Self.submit(f, 5, seed: 2)
        let live = Self.live(f.ingest)

        try await f.restart()
        guard case let .loaded(start) = f.ingest.startupSnapshot else {
            Issue.record("the snapshot was not used: \(f.ingest.startupSnapshot)")
            return
        }
        #expect(start.watermark == 6 && start.pinPointsApplied == 0 && start.events == written.events && start.tailBatches == 5)
        #expect(Self.live(f.ingest) == live)
        #expect(Self.live(f.ingest) == (try await Self.fullReplay(f.ingest.log, keys: [f.service])))

        // The restarted service goes on as the original would have: a rebuild of the whole log
        // agrees with every receipt, those it signed after the restart included.
        try await Self.submit(f, 3, seed: 3)
        let (_, report) = try await Rebuild.recompute(log: f.ingest.log, registry: f.ingest.registry, serviceKeys: [f.service])
        #expect(report.matches)
        #expect(report.rebuiltDigest == f.ingest.withCaseIndex { Rebuild.digest(of: $0) })
        // A snapshot with no later batch: nothing to replay.
        try await f.ingest.writeSnapshot()
        try await f.restart()
        guard case let .loaded(s) = f.ingest.startupSnapshot, s.watermark == 14, s.tailBatches == 0 else {
            Issue.record("\(f.ingest.startupSnapshot)")
            return
        }
        #expect(Self.live(f.ingest) == (try await Self.fullReplay(f.ingest.log, keys: [f.service])))
    }

    /// A store with a snapshot at batch 4 and two batches after it; the live index's bytes.
    static func prepared() async throws -> (F, [UInt8]) {
        let f = try await F(snapshot: true)
        try await submit(f, 4, seed: 10)
        try #require(try await f.ingest.writeSnapshot() != nil)
        try await submit(f, 2, seed: 11)
        return (f, live(f.ingest))
    }

    /// Restarts and expects the snapshot to be refused for `reason`, and the full replay's state.
    static func expectIgnored(_ f: F, _ live: [UInt8], serviceKeys: [BoxKeyPair]? = nil, _ reason: (IndexSnapshot.Refusal) -> Bool) async throws {
        try await f.restart(serviceKeys: serviceKeys)
        guard case let .refused(why) = f.ingest.startupSnapshot else {
            Issue.record("the snapshot was used: \(f.ingest.startupSnapshot)")
            return
        }
        #expect(reason(why), "refused for another reason: \(why)")
        #expect(Self.live(f.ingest) == live)
    }

    static func edit(_ path: String, _ change: (inout [UInt8]) -> Void) throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        change(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Rewrites the header checksum after a deliberate edit of the header.
    static func rehash(_ bytes: inout [UInt8]) {
        let hash = try! GenericHash.hash(Array(bytes[0..<192]))
        bytes.replaceSubrange(192..<224, with: hash)
    }

    @Test("a damaged snapshot is ignored with a reason and the whole log replayed")
    func damaged() async throws {
        let cases: [(String, (inout [UInt8]) -> Void, (IndexSnapshot.Refusal) -> Bool)] = [
            ("magic", { $0[0] ^= 1 }, { if case .malformed = $0 { true } else { false } }),
            ("watermark, checksum not updated", { $0[16] ^= 1 }, { if case .malformed = $0 { true } else { false } }),
            ("a byte of the image", { $0[224 + 300] ^= 1 }, { if case .corrupt = $0 { true } else { false } }),
            ("the last byte", { $0[$0.count - 1] ^= 1 }, { if case .corrupt = $0 { true } else { false } }),
            ("truncated", { $0.removeLast(1) }, { if case .malformed = $0 { true } else { false } }),
            ("a byte appended", { $0.append(0) }, { if case .malformed = $0 { true } else { false } }),
            ("empty", { $0 = [] }, { if case .malformed = $0 { true } else { false } }),
            ("an older format version", { $0[8] = 0; Self.rehash(&$0) }, { "\($0)".contains("format version 0") }),
            // A consistent header that does not match the encrypted image: the image's first
            // chunk authenticates the header too.
            ("event count edited, checksum updated", { $0[176] ^= 1; Self.rehash(&$0) }, { if case .corrupt = $0 { true } else { false } }),
            ("watermark edited, checksum updated", { $0[16] = 3; Self.rehash(&$0) }, { if case .otherLog = $0 { true } else { false } }),
        ]
        for (what, change, reason) in cases {
            let (f, live) = try await Self.prepared()
            try Self.edit(f.snapshotPath, change)
            try await Self.expectIgnored(f, live) { why in
                let ok = reason(why)
                if !ok { Issue.record("\(what): \(why)") }
                return ok
            }
        }
    }

    @Test("a snapshot of another store is ignored, even one sealed to a key this service holds")
    func foreign() async throws {
        let (f, _) = try await Self.prepared()
        let other = try await F(snapshot: true)
        try await Self.submit(other, 6, seed: 12)
        let otherLive = Self.live(other.ingest)
        try FileManager.default.copyItem(atPath: f.snapshotPath, toPath: other.snapshotPath)
        try await Self.expectIgnored(other, otherLive) { if case .unknownKey = $0 { true } else { false } }
        try await Self.expectIgnored(other, otherLive, serviceKeys: [other.service, f.service]) { if case .otherLog = $0 { true } else { false } }
    }

    @Test("after a restore from an earlier backup, the newer snapshot is ignored, with or without new batches since")
    func rolledBack() async throws {
        let f = try await F(snapshot: true)
        try await Self.submit(f, 3, seed: 20)
        let backup = f.directory + "/backup.sqlite"
        try f.database.backup(to: backup)
        try await Self.submit(f, 3, seed: 21)
        try #require(try await f.ingest.writeSnapshot()?.watermark == 6)

        // The restored store: the backup, with the snapshot the service wrote later beside it.
        let restored = NSTemporaryDirectory() + "plazo-restored-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: backup, toPath: restored + "/plazo.sqlite")
        try FileManager.default.copyItem(atPath: f.snapshotPath, toPath: IndexSnapshot.path(forStore: restored + "/plazo.sqlite"))
        func start() async throws -> IngestService {
            try await IngestService(
                database: AppDatabase.open(path: restored + "/plazo.sqlite"), serviceKeys: [f.service], receiptKey: f.receiptKey,
                clock: { [now = f.now] in now }, snapshotPath: IndexSnapshot.path(forStore: restored + "/plazo.sqlite"))
        }
        var service = try await start()
        guard case .refused(.otherLog) = service.startupSnapshot else {
            Issue.record("\(service.startupSnapshot)")
            return
        }
        #expect(Self.live(service) == (try await Self.fullReplay(service.log, keys: [f.service])))
        // New batches reuse the acceptance numbers 4, 5, 6 with other contents.
        for k in 0..<4 { _ = try await service.submit(try f.seal([F.event(UInt64(100 + k), .reportReceived, k)])) }
        service = try await start()
        guard case .refused(.otherLog) = service.startupSnapshot else {
            Issue.record("\(service.startupSnapshot)")
            return
        }
        #expect(Self.live(service) == (try await Self.fullReplay(service.log, keys: [f.service])))
    }

    @Test("a snapshot sealed to a retired box key is still read; one sealed to a key not given is ignored")
    func keys() async throws {
        let (f, live) = try await Self.prepared()
        let rotated = try BoxKeyPair.generate()
        try await f.restart(serviceKeys: [rotated, f.service])
        guard case let .loaded(s) = f.ingest.startupSnapshot, s.watermark == 4, s.tailBatches == 2 else {
            Issue.record("\(f.ingest.startupSnapshot)")
            return
        }
        #expect(Self.live(f.ingest) == live)
        // New snapshots are sealed to the current key.
        try await Self.submit(f, 1, seed: 13)
        let newer = Self.live(f.ingest)
        try await f.ingest.writeSnapshot()
        try await Self.expectIgnored(f, newer, serviceKeys: [f.service]) { if case .unknownKey = $0 { true } else { false } }
    }

    @Test("a snapshot whose pins do not match the stored releases is ignored")
    func otherReleases() async throws {
        let (f, live) = try await Self.prepared()
        let index = try await BatchLogReplay.replay(f.ingest.log, serviceKeys: [f.service], pinPoints: [], throughBatch: 4).index
        let invented = ReleasePinPoint(releaseID: 1, batchWatermark: 3, cutoff: "2024-06-30", cohorts: ["2024Q1"])
        _ = try await IndexSnapshot.write(index, watermark: 4, pinPoints: [invented], log: f.ingest.log, key: f.service, to: f.snapshotPath)
        try await Self.expectIgnored(f, live) { if case .otherReleases = $0 { true } else { false } }
    }

    @Test("without a snapshot file the whole log is replayed; deleting the snapshot is always safe")
    func missing() async throws {
        let (f, live) = try await Self.prepared()
        try FileManager.default.removeItem(atPath: f.snapshotPath)
        try await f.restart()
        guard case .missing = f.ingest.startupSnapshot else {
            Issue.record("\(f.ingest.startupSnapshot)")
            return
        }
        #expect(Self.live(f.ingest) == live)
        // A leftover temporary file of an interrupted write is ignored and replaced.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: f.snapshotPath + ".tmp"))
        #expect(try await f.ingest.writeSnapshot()?.watermark == 6)
        #expect(!FileManager.default.fileExists(atPath: f.snapshotPath + ".tmp"))
        try await f.restart()
        guard case let .loaded(s) = f.ingest.startupSnapshot, s.watermark == 6, s.tailBatches == 0 else {
            Issue.record("\(f.ingest.startupSnapshot)")
            return
        }
    }

    @Test("a snapshot of several chunks reads back through the read-ahead thread; a damaged later chunk is refused")
    func manyChunks() async throws {
        let f = try await F(snapshot: true)
        try await Self.submit(f, 1, seed: 40)
        // An index of 200,000 cases (about 6 MiB of image): more chunks than the reader has slots.
        var index = CaseIndex()
        var rng = SplitMix64(seed: 41)
        var batch: [CaseEvent] = []
        for c in 0..<200_000 {
            batch.append(CaseEvent(
                pseudonym: CasePseudonym(low: rng.next(), high: rng.next()), type: .reportReceived, day: Day(year: 2024, month: 1, day: 1)!.adding(days: c % 700),
                attributes: .unknown, agencyType: .hotline))
        }
        index.apply(batch, from: f.policeID)
        let written = try await IndexSnapshot.write(index, watermark: 1, pinPoints: [], log: f.ingest.log, key: f.service, to: f.snapshotPath)
        #expect(written.bytes > 5 << 20)
        let loaded = try #require(try await IndexSnapshot.load(from: f.snapshotPath, log: f.ingest.log, serviceKeys: [f.service], pinPoints: []))
        #expect(loaded.index.snapshot() == index.snapshot())
        try Self.edit(f.snapshotPath) { $0[224 + 4 * (1 << 20) + 100] ^= 1 }
        await #expect {
            _ = try await IndexSnapshot.load(from: f.snapshotPath, log: f.ingest.log, serviceKeys: [f.service], pinPoints: [])
        } throws: { error in
            if case .corrupt = error as? IndexSnapshot.Refusal { true } else { false }
        }
    }

    @Test("the background policy writes after enough new events or enough time, and only when something changed")
    func policy() async throws {
        let f = try await F(snapshot: true)
        let never = SnapshotPolicy(everyEvents: .max, interval: .seconds(3600))
        #expect(try await f.ingest.writeSnapshotIfDue(SnapshotPolicy(everyEvents: 1, interval: .zero)) == nil, "no batch yet")
        try await Self.submit(f, 2, seed: 30)
        #expect(try await f.ingest.writeSnapshotIfDue(never) == nil)
        #expect(try await f.ingest.writeSnapshotIfDue(SnapshotPolicy(everyEvents: 10, interval: .seconds(3600)))?.watermark == 2)
        try await Self.submit(f, 1, seed: 31)
        #expect(try await f.ingest.writeSnapshotIfDue(SnapshotPolicy(everyEvents: 1_000, interval: .seconds(3600))) == nil)
        #expect(try await f.ingest.writeSnapshotIfDue(SnapshotPolicy(everyEvents: 1_000, interval: .zero))?.watermark == 3)
        #expect(try await f.ingest.writeSnapshotIfDue(SnapshotPolicy(everyEvents: 1, interval: .zero)) == nil, "nothing changed since")
        // A service without a snapshot path writes nothing.
        let plain = try await F()
        try await Self.submit(plain, 1, seed: 32)
        #expect(try await plain.ingest.writeSnapshot() == nil)
        #expect(!FileManager.default.fileExists(atPath: plain.snapshotPath))
    }
}
