import ArgumentParser
import Foundation
import PlazoIngest
import PlazoModel
import PlazoSodium
import PlazoStore
import PlazoWire

/// `plazo rebuild`: replays the batch log from scratch and checks it against the receipts the
/// service signed.
struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Replay all stored batches (the source of truth) and check every receipt against the replay.",
        discussion: """
            Re-opens every stored batch with the service's box keys, checks its signature against the \
            key that signed it, re-validates its records as on the day it was received and applies \
            them in acceptance order to a fresh case index: the state the service rebuilds at start-up. \
            Each stored receipt must agree with the replay (digest, records accepted and rejected, new \
            events) and carry a valid service signature. Prints the digest of the rebuilt state. Exit \
            status 0 when everything agrees, 1 otherwise.
            """
    )

    @OptionGroup var store: StoreOptions
    @OptionGroup var serviceKeys: ServiceKeyOptions

    func run() async throws {
        let database = try await store.open()
        let started = Date()
        let (_, report) = try await Rebuild.recompute(
            log: BatchLog(database), registry: AgencyRegistry(database), serviceKeys: serviceKeys.boxKeyPairs(),
            receiptKey: serviceKeys.receiptKey().publicKey
        )
        print("batches replayed  \(report.batches)")
        print("records accepted  \(report.acceptedRecords)")
        print("distinct events   \(report.events) in \(report.cases) case(s)")
        print("rebuilt state     \(Hex.encode(report.rebuiltDigest))")
        print(String(format: "took              %.2f s", Date().timeIntervalSince(started)))
        if report.matches {
            print("OK: every stored batch authenticates and every receipt agrees with a replay of the batch log")
        } else {
            for mismatch in report.mismatches.prefix(20) { print("  \(mismatch)") }
            print("MISMATCH: \(report.mismatches.count) receipt(s) disagree with a replay of the batch log")
            throw ExitCode.failure
        }
    }
}
