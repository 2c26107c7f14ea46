import ArgumentParser
import Foundation
import PlazoIngest
import PlazoLedger
import PlazoSodium
import PlazoStore

/// `plazo store`: moving a store between engines.
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Move a store between engines (SQLite to PostgreSQL).",
        subcommands: [Copy.self]
    )

    /// `plazo store copy --from plazo.sqlite --to postgres://…`.
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy",
            abstract: "Copy a whole store into an empty one, then verify the copy by replaying every batch.",
            discussion: """
                Copies every table (agencies and keys, tokens, the batch log with its receipts, the \
                privacy ledger and its history, releases, drafts and their statuses) row for row, with \
                the same ids and bytes, in one transaction on the target. The target must be empty \
                (a new database, or a new schema with ?schema=name). Stop the service on the source \
                first (a SQLite store held by a running service is refused). \
                Then verifies: the same number of rows in every table, the same batch-log \
                fingerprint, and every copied batch re-opened with the service's box keys, its \
                signature checked and its receipt compared with a replay, as `plazo rebuild` does. \
                Exit status 0 when the copy verifies, 1 otherwise. Then start the replicas with \
                `plazo serve --database <the target URL>` (docs/operations.md, "Several nodes").
                """)

        @Option(help: "The source store: a SQLite file (or a postgres:// URL).") var from: String
        @Option(help: "The target store, empty: a postgres:// URL (or a SQLite file).") var to: String
        @OptionGroup var serviceKeys: ServiceKeyOptions

        func run() async throws {
            let started = Date()
            if let file = AppDatabase.file(at: from), !FileManager.default.fileExists(atPath: file) {
                throw CLIRefusal("no store at \(from): give the SQLite file of the service to copy")
            }
            // A SQLite source is held exclusively for the whole copy: a running service is refused.
            let lock = try AppDatabase.file(at: from).map { try StoreLock.forCopy(db: $0) }
            defer { withExtendedLifetime(lock) {} }
            let source: AppDatabase
            let target: AppDatabase
            do { source = try await AppDatabase.open(location: from) } catch { throw CLIRefusal("cannot open the source store \(from): \(error)") }
            do { target = try await AppDatabase.open(location: to) } catch { throw CLIRefusal("cannot open the target store: \(error)") }
            do {
                try await StoreCopy.copy(from: source, to: target) { table, rows in
                    if table == "batch" && rows % 10_240 != 0 { return }
                    FileHandle.standardError.write(Data("copied \(table): \(rows) row(s)\n".utf8))
                }
            } catch let failure as StoreCopy.Failure { throw CLIRefusal("\(failure)") }
            let copied = Date()

            // Verification: the rows, the log's fingerprint, then every batch replayed.
            let counts = (try await StoreCopy.rowCounts(source), try await StoreCopy.rowCounts(target))
            var problems: [String] = []
            for t in StoreCopy.tables where counts.0[t.name] != counts.1[t.name] {
                problems.append("\(t.name): \(counts.0[t.name] ?? 0) row(s) in the source, \(counts.1[t.name] ?? 0) in the copy")
            }
            let last = try await BatchLog(source).lastSeq()
            if try await BatchLog(source).fingerprint(through: last).digest != (try await BatchLog(target).fingerprint(through: last).digest) {
                problems.append("the batch log's fingerprint differs")
            }
            let (_, report) = try await Rebuild.recompute(
                log: BatchLog(target), registry: AgencyRegistry(target), serviceKeys: serviceKeys.boxKeyPairs(),
                receiptKey: serviceKeys.receiptKey().publicKey)
            let audit = try await BudgetLedger(database: target).audit()
            if !audit.isConsistent { problems += audit.problems.map { "ledger: \($0)" } }
            if try await BudgetLedger(database: source).balances() != (try await BudgetLedger(database: target).balances()) {
                problems.append("the ledger balances differ")
            }

            print("copied            \(counts.1.values.reduce(0, +)) row(s) in \(StoreCopy.tables.count) tables")
            for t in StoreCopy.tables { print("  \(t.name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(counts.1[t.name] ?? 0)") }
            print("batches verified  \(report.batches) (\(report.acceptedRecords) records, \(report.cases) cases)")
            print(String(format: "took              %.2f s (copy %.2f s, verification %.2f s)", Date().timeIntervalSince(started),
                         copied.timeIntervalSince(started), Date().timeIntervalSince(copied)))
            for mismatch in report.mismatches.prefix(20) { problems.append("\(mismatch)") }
            guard problems.isEmpty, report.matches else {
                for p in problems { print("  \(p)") }
                print("NOT VALID: the copy does not match the source")
                throw ExitCode.failure
            }
            print("OK: every table copied, the batch log's fingerprint matches, every batch authenticates and every receipt agrees")
        }
    }
}
