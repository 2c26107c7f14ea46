import ArgumentParser
import Foundation
import PlazoLedger
import PlazoPrivacy
import PlazoReleases
import PlazoStore

extension ReleaseCommand {
    /// `plazo release plan --targets FILE`: accuracy before spend (docs/privacy-model.md §5).
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Propose the ρ per table per release that meets accuracy targets within a cohort's lifetime budget.",
            discussion: """
                Reads targets (JSON: releases_per_cohort, optional lifetime_rho, targets with \
                table, breakdown, pool_cohorts, half_width, expected_cases and expected_share, and \
                fixed_tables) and prints, per target, the ρ per release it needs, the ρ proposed and \
                the half-width predicted there. When the targets fit, the proposal spends the \
                lifetime budget by the cohort's last release; when they do not, it says which \
                targets fail, the budget that would meet them, and what pooling by year would give. \
                Reads no case data and spends nothing: group sizes are your planning assumptions. \
                Without lifetime_rho, the ledger's default budget is used. Example: \
                docs/examples/quarterly-targets.json.
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "The targets (JSON).") var targets: String
        @Option(help: "Each cohort's lifetime budget ρ (exact rational); overrides the file and the ledger.") var lifetimeRho: String?
        @Flag(help: "Print JSON (snake_case), with the spec tables that carry the plan out.") var json = false

        func run() async throws {
            let request = try JSONDecoder().decode(AccuracyPlanner.Request.self, from: Data(contentsOf: URL(fileURLWithPath: targets)))
            let budget: Rational
            if let text = lifetimeRho ?? request.lifetimeRho {
                budget = try Rational(parsing: text)
            } else {
                budget = try await BudgetLedger(database: store.open()).defaultBudget().rho
            }
            let plan = try AccuracyPlanner.plan(request, lifetimeRho: budget)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
                print(String(decoding: try encoder.encode(plan), as: UTF8.self))
                return
            }
            let level = Int(((request.confidenceLevel ?? 0.95) * 100).rounded())
            print("plan (no case data read, nothing spent): \(request.releasesPerCohort) releases per cohort, lifetime ρ = \(plan.lifetimeRho) per cohort")
            print(plan.feasible
                ? "every target is met; the proposal spends ρ = \(plan.rhoPerRelease) per release (\(String(format: "%.4g", plan.lifetimeSpend)) over the schedule)"
                : String(format: "NOT every target can be met: they need ρ = %.4g per cohort over the schedule", plan.lifetimeRhoNeeded))
            print("table\tshare\twanted ±\tneeds ρ/release\tproposed ρ/release\tpredicted ± (\(level) %)")
            for t in plan.targets {
                let name = t.target.table.rawValue + (t.target.breakdown.isEmpty ? "" : " by " + t.target.breakdown.map(\.rawValue).joined(separator: ","))
                    + (t.target.poolCohorts.map { " (\($0.rawValue))" } ?? "") + (t.target.continual == true ? " (continual)" : "")
                print(String(format: "%@\t%@%@\t%.3f\t%.5f\t%@\t%.3f%@", name, t.estimate, t.x.isEmpty ? "" : "@\(t.x)", t.target.halfWidth,
                             t.neededRhoPerRelease, t.rhoPerRelease, t.predictedHalfWidth, t.met ? "" : "  (not met)"))
            }
            for note in plan.notes { print("- " + note) }
        }
    }
}
