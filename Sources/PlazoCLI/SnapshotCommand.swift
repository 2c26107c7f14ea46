import ArgumentParser
import Foundation
import PlazoIngest
import PlazoStore

/// `plazo snapshot`: writes the case-index snapshot of a stopped service's store.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Write the case-index snapshot of a stopped service's store, so that its next start replays no batch.",
        discussion: """
            Replays the whole batch log with the stored releases' pins, as a start without a \
            snapshot does, and writes the case index to <db>.index-snapshot (mode 0600, encrypted \
            under a key derived from the service box key, replaced atomically). `plazo serve` \
            loads it and replays only the batches stored after it. A running service writes its \
            own snapshot (in the background and when it stops), so this command is refused while \
            one holds the store. The snapshot is derived state: it may be deleted at any time (the \
            next start replays the whole log), and `plazo backup` does not copy it.
            """
    )

    @OptionGroup var store: StoreOptions
    @OptionGroup var serviceKeys: ServiceKeyOptions

    func run() async throws {
        if store.isShared {
            throw CLIRefusal("a PostgreSQL store keeps no case-index snapshot: each replica replays the batch log when it starts and then follows it. Nothing was written.")
        }
        let lock = try StoreLock.forSnapshot(db: store.location)
        defer { withExtendedLifetime(lock) {} }
        let database = try await store.open()
        let started = Date()
        let log = BatchLog(database)
        let pinPoints = try await ReleaseStore(database).pinPoints()
        let (index, last) = try await BatchLogReplay.replay(log, serviceKeys: serviceKeys.boxKeyPairs(), pinPoints: pinPoints)
        guard last > 0 else {
            print("no batch stored yet: nothing to snapshot")
            return
        }
        let replayed = Date()
        let path = IndexSnapshot.path(forStore: store.location)
        let written = try await IndexSnapshot.write(index, watermark: last, pinPoints: pinPoints[...], log: log, key: serviceKeys.boxKeyPair(), to: path)
        print("snapshot          \(path) (\(written.bytes / 1024) KiB)")
        print("watermark         batch #\(written.watermark), with the pins of \(written.pinPointsApplied) release(s)")
        print(String(format: "took              %.2f s (replay %.2f s, write %.2f s)", Date().timeIntervalSince(started),
                     replayed.timeIntervalSince(started), Date().timeIntervalSince(replayed)))
    }
}
