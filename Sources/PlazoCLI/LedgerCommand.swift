import ArgumentParser
import Foundation
import PlazoLedger
import PlazoModel
import PlazoPrivacy
import PlazoStore

/// `plazo ledger ...`: the steward's view of the privacy-budget ledger.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "List, audit and set privacy budgets (zCDP ρ per report-quarter cohort).",
        subcommands: [List.self, Audit.self, SetBudget.self, History.self]
    )

    /// The database option shared by the subcommands.
    struct DatabaseOption: ParsableArguments {
        @OptionGroup var store: StoreOptions

        func ledger() async throws -> BudgetLedger {
            BudgetLedger(database: try await store.open())
        }
    }

    /// The `--json` form of ledger values: snake_case, like the API (``PlazoJSON``).
    static func json<T: Encodable>(_ value: T) throws -> String {
        try PlazoJSON.text(value, snakeCase: true)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// `plazo ledger list`: every spend, oldest first.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List spends (timestamp, scopes, cost, charge, purpose, requester).")
        @OptionGroup var db: DatabaseOption
        @Option(help: "Only spends naming this cohort (e.g. 2024Q1).") var scope: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let ledger = try await db.ledger()
            let entries = try await ledger.entries(scope: scope.map { s throws(LedgerError) in try Quarter(scope: s) })
            if json { print(try LedgerCommand.json(entries)); return }
            if entries.isEmpty { print("no spends recorded"); return }
            for e in entries {
                let scopes = e.scopes.map(\.description).joined(separator: ",")
                print("#\(e.id)\t\(LedgerCommand.timestamp(e.spentAt))\t\(scopes)\t\(e.cost)\tcharged ρ=\(e.charged.displayDescription)\t\(e.purpose)\t\(e.requester)")
            }
        }
    }

    /// `plazo ledger audit`: balances per scope and invariant checks; exits non-zero on a problem.
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Per-scope budget, spent and remaining; check the ledger's invariants.")
        @OptionGroup var db: DatabaseOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let ledger = try await db.ledger()
            let report = try await ledger.audit()
            if json {
                print(try LedgerCommand.json(report))
            } else {
                print("default budget ρ=\(try await ledger.defaultBudget().displayDescription)")
                print("scope\tbudget ρ\tspent ρ\tremaining ρ\tspends")
                for b in report.balances {
                    let remaining = b.remainingUnits >= 0 ? RhoUnits(units: b.remainingUnits).displayDescription : "-\(RhoUnits(units: -b.remainingUnits).displayDescription)"
                    print("\(b.scope)\t\(b.budget.displayDescription)\(b.budgetIsDefault ? " (default)" : "")\t\(b.spent.displayDescription)\t\(remaining)\t\(b.spendCount)")
                }
                print("\(report.spendCount) spends; " + (report.isConsistent ? "consistent" : "PROBLEMS:"))
                for p in report.problems { print("  - \(p)") }
                let flagged = try await ledger.history().filter(\.flagged)
                if !flagged.isEmpty {
                    print("flagged budget changes (confirmed with --confirm-raise):")
                    for h in flagged { print("  " + History.line(h)) }
                }
            }
            if !report.isConsistent { throw ExitCode(2) }
        }
    }

    /// `plazo ledger set-budget`: set a cohort's budget or the default.
    struct SetBudget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-budget", abstract: "Set the zCDP budget ρ of a cohort, or the default for cohorts without one.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "The cohort, e.g. 2024Q1.") var scope: String?
        @Flag(name: .customLong("default"), help: "Set the default budget instead of one cohort's.") var isDefault = false
        @Option(help: ArgumentHelp("Budget ρ as an exact rational (1/2, 0.25).", valueName: "rational")) var rho: String
        @Option(help: "Who sets it (recorded in the history).") var by: String
        @Option(help: "Why (required; recorded in the history, shown by `plazo ledger history` and GET /v1/ledger).") var reason: String
        @Flag(help: "Confirm a raise of an existing budget, or a budget above ρ = 2 (flagged in the audit).") var confirmRaise = false

        func validate() throws {
            if (scope == nil) == !isDefault { throw ValidationError("give exactly one of --scope or --default") }
            if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("--reason must not be empty: every budget change records why") }
        }

        func run() async throws {
            let ledger = try await db.ledger()
            let value = try Rational(parsing: rho)
            let entry = try await ledger.changeBudget(
                value, scope: try scope.map { s throws(LedgerError) in try Quarter(scope: s) }, by: by, reason: reason, confirmRaise: confirmRaise)
            let applied = entry.budget
            print("budget \(scope ?? "default") ρ=\(applied.displayDescription)\(applied.isExactly(value) ? "" : ", rounded down from \(value)")"
                  + (entry.flagged ? " (flagged: \(entry.flags.joined(separator: ", ")))" : ""))
        }
    }

    /// `plazo ledger history`: every budget change, who, when, old → new, why.
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every budget change: when, who, scope, old → new ρ, why, flags.")
        @OptionGroup var db: DatabaseOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let history = try await db.ledger().history()
            if json { print(try LedgerCommand.json(history)); return }
            if history.isEmpty { print("no budget changes recorded (every cohort's budget is zero: nothing can be spent)"); return }
            for h in history { print(Self.line(h)) }
        }

        static func line(_ h: BudgetHistoryEntry) -> String {
            let old = h.previous?.displayDescription ?? "none (0)"
            return "#\(h.id)\t\(LedgerCommand.timestamp(h.changedAt))\t\(h.changedBy)\t\(h.scope?.description ?? "default")\tρ \(old) → \(h.budget.displayDescription)\t\(h.reason ?? "(no reason recorded)")"
                + (h.flagged ? "\tFLAGGED: \(h.flags.joined(separator: ","))" : "")
        }
    }
}
