import Foundation
import PlazoLedger
import PlazoModel
import PlazoPrivacy
import PlazoStore

/// What a release would cost and how accurate it would be, computed **without reading any case
/// data and without spending** (`plazo release create --dry-run`, `POST /v1/releases?dry_run=true`).
///
/// Privacy: everything here comes from the spec, the mechanisms and the ledger. Cell half-widths
/// are the mechanism's own (``CountMechanism/halfWidth(alpha:)``, exact from the discrete noise
/// distribution); headline half-widths are given as functions of an **assumed** denominator size,
/// never of a true count, so a dry run reveals nothing about the cases and needs no budget.
public struct ReleaseDryRun: Sendable, Codable, Hashable {
    /// One cohort's budget before and after the release.
    public struct Cohort: Sendable, Codable, Hashable {
        /// The cohort (`2024Q1`).
        public var cohort: String
        /// Its budget ρ (exact).
        public var budgetRho: String
        /// Spent so far.
        public var spentRho: String
        /// What this release would charge it (Σρ of the tables, rounded up to ledger units).
        public var costRho: String
        /// Budget − spent − cost (negative: the release would be refused).
        public var remainingAfterRho: String
        /// The same as a number.
        public var remainingAfterRhoValue: Double
        /// Whether the ledger would admit the charge.
        public var affordable: Bool
    }

    /// A headline estimate's expected half-width at one assumed denominator size.
    public struct HeadlineWidth: Sendable, Codable, Hashable {
        /// The assumed number of cases the share is of (an assumption, not data).
        public var assumedDenominator: Int
        /// Expected half-width of the share at the release's confidence level (≈ z·sd·√k / n).
        public var halfWidth: Double
    }

    /// A headline estimate of a table.
    public struct Headline: Sendable, Codable, Hashable {
        /// The estimate's name in the release (`reached_share`).
        public var name: String
        /// Its argument (`charged`, `365`, or empty).
        public var x: String
        /// The denominator the share is of (`cohort cases`, `charged cases`, `open cases`).
        public var denominator: String
        /// How many noisy cells its numerator sums.
        public var cellsSummed: Int
        /// Expected half-widths for assumed denominator sizes.
        public var byAssumedDenominator: [HeadlineWidth]
    }

    /// One table's cost and accuracy.
    public struct Table: Sendable, Codable, Hashable {
        /// The table kind.
        public var kind: TableKind
        /// Its breakdown.
        public var breakdown: [BreakdownDimension]
        /// Its ρ.
        public var rho: String
        /// The noise distribution.
        public var noise: String
        /// Noise standard deviation per cell.
        public var noiseStandardDeviation: Double
        /// Cells per cohort (groups × cells per group).
        public var cellsPerCohort: Int
        /// Half-width of every cell's interval (exact, from the mechanism).
        public var cellHalfWidth: Int64
        /// Expected half-width of a whole group's total (e.g. a cohort's case count), ≈ z·sd·√cells.
        public var groupTotalHalfWidth: Double
        /// Headline shares.
        public var headlines: [Headline]
    }

    /// Always true: nothing was read from the cases and nothing was spent.
    public var dryRun = true
    /// The spec's title.
    public var title: String
    /// The cutoff.
    public var cutoff: String
    /// The confidence level of every half-width.
    public var confidenceLevel: Double
    /// Σρ per cohort, exact.
    public var totalRho: String
    /// Equivalent (ε, δ) of this release alone per cohort.
    public var epsilonDelta: [EpsilonDelta]
    /// Per cohort: budget, spent, cost, remaining after.
    public var cohorts: [Cohort]
    /// Whether the ledger would admit the release now (a concurrent spend may change this).
    public var wouldBeAdmitted: Bool
    /// Per table: cost and accuracy.
    public var tables: [Table]
    /// How headline half-widths were obtained (assumed denominators, not data).
    public var headlineMethod: String
}

extension ReleaseEngine {
    /// The assumed denominator sizes of headline half-widths.
    public static let assumedDenominators = [100, 400, 1_000, 5_000]

    /// Plans `spec` without reading case data and without spending: the ledger is only read.
    public func dryRun(spec: ReleaseSpec) async throws(ReleaseError) -> ReleaseDryRun {
        let plan = try spec.validated()
        try await Self.checkSchedule(plan) { q in try await BudgetLedger(database: database).balance(for: q).budget }
        let charge: RhoUnits
        do { charge = try RhoUnits.charging(plan.totalRho) } catch { throw .invalidSpec("\(error)") }
        // With continual tables each cohort is charged its own stream step's cost (and a spec a
        // live release would refuse, for a complete stream or a changed schedule, is refused here).
        var charges = [RhoUnits](repeating: charge, count: plan.cohorts.count)
        var continual: ContinualStepPlan?
        if plan.tables.contains(where: { $0.continual != nil }) {
            let history: [ContinualStepRow]
            do { history = try await ReleaseStore(database).continualSteps(cohorts: plan.cohorts.map(\.description)) } catch { throw .store("\(error)") }
            continual = try Self.continualStepPlan(plan, history: history)
            let fresh: RhoUnits
            do { fresh = try RhoUnits.charging(PrivacyCost.totalRho(plan.tables.filter { $0.continual == nil }.map(\.cost))) } catch {
                throw .invalidSpec("\(error)")
            }
            charges = continual!.charges.map { RhoUnits(units: fresh.units &+ $0) }
        }
        let ledger = BudgetLedger(database: database)
        var cohorts: [ReleaseDryRun.Cohort] = []
        for (q, charge) in zip(plan.cohorts, charges) {
            let b: ScopeBalance
            do { b = try await ledger.balance(for: q) } catch { throw .store("\(error)") }
            let after = b.budget.units &- b.spent.units &- charge.units
            let afterRho = after >= 0 ? RhoUnits(units: after).rho.description : "-" + RhoUnits(units: -after).rho.description
            cohorts.append(ReleaseDryRun.Cohort(
                cohort: q.description, budgetRho: b.budget.rho.description, spentRho: b.spent.rho.description,
                costRho: charge.rho.description, remainingAfterRho: afterRho,
                remainingAfterRhoValue: Double(after) / Double(RhoUnits.unitsPerRho), affordable: after >= 0))
        }
        let z = normalQuantile(0.5 + plan.confidenceLevel / 2)
        var tables: [ReleaseDryRun.Table] = []
        for t in plan.tables {
            var info = try Self.info(t, level: plan.confidenceLevel)
            if let schedule = t.continual, let steps = continual?.steps {
                // The least precise cohort's band cells at its step.
                let worst = steps.map { schedule.bandVariance(step: $0) + 1.0 / 12 }.max() ?? 0
                info.noise = "continual discrete Gaussian (square-root factorization, \(schedule.horizon) releases, lifetime ρ = \(schedule.lifetimeRho))"
                info.noiseStandardDeviation = worst.squareRoot()
                info.halfWidth = Int64((z * worst.squareRoot()).rounded(.up))
            }
            let sd = info.noiseStandardDeviation
            let cells = t.kind.cellsPerGroup
            let headlines = Self.headlineCells(t.kind).map { name, x, denominator, k in
                ReleaseDryRun.Headline(
                    name: name, x: x, denominator: denominator, cellsSummed: k,
                    byAssumedDenominator: Self.assumedDenominators.map { n in
                        ReleaseDryRun.HeadlineWidth(assumedDenominator: n, halfWidth: z * sd * Double(k).squareRoot() / Double(n))
                    })
            }
            tables.append(ReleaseDryRun.Table(
                kind: t.kind, breakdown: t.breakdown, rho: info.rho, noise: info.noise, noiseStandardDeviation: sd,
                cellsPerCohort: info.groupsPerCohort * cells, cellHalfWidth: info.halfWidth,
                groupTotalHalfWidth: z * sd * Double(cells).squareRoot(), headlines: headlines))
        }
        return ReleaseDryRun(
            title: plan.spec.title, cutoff: plan.cutoff.iso, confidenceLevel: plan.confidenceLevel, totalRho: plan.totalRho.description,
            epsilonDelta: [1e-6, 1e-9].map { EpsilonDelta(delta: $0, epsilon: ZCDP.epsilon(rho: plan.totalRho.doubleValue, delta: $0)) },
            cohorts: cohorts, wouldBeAdmitted: cohorts.allSatisfy(\.affordable), tables: tables,
            headlineMethod: "assumed denominators \(Self.assumedDenominators.map(String.init).joined(separator: ", ")): half-width ≈ z·sd·√(cells summed)/n, the noise of the numerator only (no case data is read by a dry run)")
    }

    /// Per table kind, its headline shares: (name, x, denominator, cells the numerator sums).
    static func headlineCells(_ kind: TableKind) -> [(String, String, String, Int)] {
        // Monthly time bins: bins 0..<k end by day 30·k (bins 0–11 by 365, 0–2 by 90).
        let binsBy = { (days: Int) in TimeBins.edges.indices.filter { (TimeBins.upperEdge($0) ?? .max) <= days }.count }
        switch kind {
        case .timeToFirstDecision: return [("cumulative_incidence_charge", "365", "cohort cases", binsBy(365))]
        case .attrition: return [("reached_share", "charged", "cohort cases", 2)]
        case .dispositions: return [("share_of_charged", "pending", "charged cases", 1)]
        case .backlog: return [("suspended_share", "", "open cases", BacklogBands.count)]
        case .victimUpdateTime: return [("updated_by", "90", "cohort cases", binsBy(90))]
        case .victimUpdateRecency: return [("share_no_update_90d", "", "open cases", 1)]
        case .chargeByHorizon: return [("charged_within", "365", "cohort cases", 3)]
        }
    }
}

extension ReleaseDryRun {
    /// The encoder of plans (and of the API's drafts, which carry one): ``PlazoJSON``'s
    /// configuration with snake_case keys; unbounded half-widths as `"inf"`.
    public static func jsonEncoder(pretty: Bool = true) -> JSONEncoder {
        let encoder = PlazoJSON.encoder(pretty: pretty, snakeCase: true)
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// The plan as JSON with snake_case keys (the API's and `--dry-run --json`'s form).
    public static func snakeCaseJSON(_ plan: ReleaseDryRun) throws -> Data {
        try jsonEncoder().encode(plan)
    }
}
