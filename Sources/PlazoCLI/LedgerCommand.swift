import ArgumentParser
import Foundation
import PlazoPrivacy
import PlazoStore

/// `plazo ledger ...`: the steward's view of the privacy-budget ledger.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "List, audit and set privacy budgets (zCDP ρ per report-quarter cohort).",
        subcommands: [List.self, Audit.self, SetBudget.self]
    )

    /// The database option shared by the subcommands.
    struct DatabaseOption: ParsableArguments {
        @Option(name: .customLong("db"), help: "Path of the service's SQLite database.")
        var path: String = "plazo.sqlite"

        func ledger() throws -> BudgetLedger {
            BudgetLedger(database: try AppDatabase.open(path: path))
        }
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// `plazo ledger list`: every spend, oldest first.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List spends (timestamp, scopes, cost, charge, purpose, requester).")
        @OptionGroup var db: DatabaseOption
        @Option(help: "Only spends naming this cohort (e.g. 2024Q1).") var scope: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let ledger = try db.ledger()
            let entries = try ledger.entries(scope: scope.map { s throws(LedgerError) in try PrivacyScope(s) })
            if json { print(try LedgerCommand.json(entries)); return }
            if entries.isEmpty { print("no spends recorded"); return }
            for e in entries {
                let scopes = e.scopes.map(\.rawValue).joined(separator: ",")
                print("#\(e.id)\t\(LedgerCommand.timestamp(e.spentAt))\t\(scopes)\t\(e.cost)\tcharged ρ=\(e.charged.displayDescription)\t\(e.purpose)\t\(e.requester)")
            }
        }
    }

    /// `plazo ledger audit`: balances per scope and invariant checks; exits non-zero on a problem.
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Per-scope budget, spent and remaining; check the ledger's invariants.")
        @OptionGroup var db: DatabaseOption
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let ledger = try db.ledger()
            let report = try ledger.audit()
            if json {
                print(try LedgerCommand.json(report))
            } else {
                print("default budget ρ=\(try ledger.defaultBudget().displayDescription)")
                print("scope\tbudget ρ\tspent ρ\tremaining ρ\tspends")
                for b in report.balances {
                    let remaining = b.remainingUnits >= 0 ? RhoUnits(units: b.remainingUnits).displayDescription : "-\(RhoUnits(units: -b.remainingUnits).displayDescription)"
                    print("\(b.scope)\t\(b.budget.displayDescription)\(b.budgetIsDefault ? " (default)" : "")\t\(b.spent.displayDescription)\t\(remaining)\t\(b.spendCount)")
                }
                print("\(report.spendCount) spends; " + (report.isConsistent ? "consistent" : "PROBLEMS:"))
                for p in report.problems { print("  - \(p)") }
            }
            if !report.isConsistent { throw ExitCode(2) }
        }
    }

    /// `plazo ledger set-budget`: set a cohort's budget or the default.
    struct SetBudget: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-budget", abstract: "Set the zCDP budget ρ of a cohort, or the default for cohorts without one.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "The cohort, e.g. 2024Q1.") var scope: String?
        @Flag(name: .customLong("default"), help: "Set the default budget instead of one cohort's.") var isDefault = false
        @Option(help: ArgumentHelp("Budget ρ as an exact rational (1/2, 0.25).", valueName: "rational")) var rho: String
        @Option(help: "Who sets it (recorded in the history).") var by: String

        func validate() throws {
            if (scope == nil) == !isDefault { throw ValidationError("give exactly one of --scope or --default") }
        }

        func run() throws {
            let ledger = try db.ledger()
            let value = try Rational(parsing: rho)
            if let scope {
                try ledger.setBudget(value, for: PrivacyScope(scope), by: by)
            } else {
                try ledger.setDefaultBudget(value, by: by)
            }
            let applied = try RhoUnits.budget(value)
            print("budget \(scope ?? "default") ρ=\(applied.displayDescription)\(applied.isExactly(value) ? "" : ", rounded down from \(value)")")
        }
    }
}
