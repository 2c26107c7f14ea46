import ArgumentParser
import Foundation
import PlazoIngest
import PlazoSodium
import PlazoStore
import PlazoWire

/// `plazo rebuild`: recomputes case state from the stored batches and compares it with the
/// state incremental ingest produced.
struct RebuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Recompute all case state from the stored batches (the source of truth) and check it.",
        discussion: """
            Re-opens every stored batch with the service's box key, re-validates its records as on \
            the day it was received and applies them in acceptance order to a fresh case index. \
            Prints the digests of the rebuilt and stored states. Exit status 0 when they are equal, \
            1 when they differ. Run it while the service is stopped or idle.
            """
    )

    @OptionGroup var store: StoreOptions
    @OptionGroup var serviceKeys: ServiceKeyOptions

    func run() throws {
        let database = try store.open()
        let started = Date()
        let (_, report) = try Rebuild.recompute(
            log: BatchLog(database), registry: AgencyRegistry(database), serviceKeys: [serviceKeys.boxKeyPair()]
        )
        print("batches replayed  \(report.batches)")
        print("records accepted  \(report.acceptedRecords)")
        print("distinct events   \(report.events) in \(report.cases) case(s)")
        print("rebuilt state     \(Hex.encode(report.rebuiltDigest))")
        print("stored state      \(Hex.encode(report.storedDigest))")
        print(String(format: "took              %.2f s", Date().timeIntervalSince(started)))
        if report.matches {
            print("OK: the stored case state equals a rebuild from the batch log")
        } else {
            print("MISMATCH: the stored case state differs from a rebuild from the batch log")
            throw ExitCode.failure
        }
    }
}
