import Foundation
import PlazoCases
import PlazoModel
import PlazoPrivacy

/// Accuracy before spend (issue 21, item 6): from the half-widths a steward wants and a release
/// schedule, the ρ per table per release that meets them within a cohort's lifetime budget, or
/// which targets cannot be met and what budget or pooling would meet them.
///
/// Privacy: the planner reads no case data. Group sizes and shares are the steward's **planning
/// assumptions** (public, e.g. "about 600 cases per quarter nationally, 73 per state-year"), never
/// counts from the store, so a plan spends nothing and reveals nothing.
///
/// The prediction. Every planned figure is a share p̂ = X/N of one table, with X a sum of k of the
/// group's noisy cells and N the sum of all m of them (``shareCells(_:name:x:)``), each cell with
/// independent noise of variance σ² = 1/(2ρ) (discrete Gaussian; its true variance is slightly
/// lower). To first order (the delta method, as the life tables' intervals use):
///
///     Var p̂ ≈ σ² · ((1 − p)²·k + p²·(m − k)) / N²,   half-width = z · √Var p̂.
///
/// For a target half-width w the table needs σ² ≤ (w·N/z)² / c with c = (1 − p)²k + p²(m − k),
/// i.e. ρ ≥ c·z² / (2·(w·N)²) per release. The noise is additive, so a share near 0 is not easier:
/// its numerator's k noisy cells remain (c → k as p → 0, c → m − k as p → 1). Without an expected
/// share the planner takes the worst case over p, c = max(k, m − k), so a plan never promises more
/// than it can hold; a steward who knows the share is, say, about 0.3 gives it. `AccuracyPlannerTests`
/// checks the prediction against realised half-widths.
public enum AccuracyPlanner {
    /// One accuracy target: a table (kind, breakdown, pooling), the share it is judged by, the
    /// half-width wanted and the planning assumptions for its groups.
    public struct Target: Sendable, Codable, Hashable {
        /// The table kind (`charge_by_horizon`).
        public var table: TableKind
        /// Its breakdown (`["state"]`).
        public var breakdown: [BreakdownDimension] = []
        /// Its pooling (`"year"`), or nil for quarterly groups.
        public var poolCohorts: CohortPooling? = nil
        /// The share the target is about (`charged_within`); default: the table's headline.
        public var estimate: String? = nil
        /// Its argument (`365`, `charged`); default: the headline's.
        public var x: String? = nil
        /// The 95 % (or the plan's level) half-width wanted, as a proportion (0.10 = ±10 points).
        public var halfWidth: Double
        /// Planning assumption: the cases in one group (a national quarterly cohort, a state-year).
        public var expectedCases: Double
        /// Planning assumption: the share's value (default: the worst case over all shares).
        public var expectedShare: Double? = nil
        /// Plan the table as released continually (`"continual": true`, `charge_by_horizon` only:
        /// `docs/metrics.md` §5.2): its bands' running totals under the square-root factorization
        /// and its size measured once, predicted at the least precise of its releases.
        public var continual: Bool? = nil

        /// A target.
        public init(
            table: TableKind, breakdown: [BreakdownDimension] = [], poolCohorts: CohortPooling? = nil, estimate: String? = nil,
            x: String? = nil, halfWidth: Double, expectedCases: Double, expectedShare: Double? = nil, continual: Bool? = nil
        ) {
            self.table = table
            self.breakdown = breakdown
            self.poolCohorts = poolCohorts
            self.estimate = estimate
            self.x = x
            self.halfWidth = halfWidth
            self.expectedCases = expectedCases
            self.expectedShare = expectedShare
            self.continual = continual
        }

        enum CodingKeys: String, CodingKey {
            case table, breakdown, estimate, x, continual
            case poolCohorts = "pool_cohorts", halfWidth = "half_width", expectedCases = "expected_cases", expectedShare = "expected_share"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            table = try c.decode(TableKind.self, forKey: .table)
            breakdown = try c.decodeIfPresent([BreakdownDimension].self, forKey: .breakdown) ?? []
            poolCohorts = try c.decodeIfPresent(CohortPooling.self, forKey: .poolCohorts)
            estimate = try c.decodeIfPresent(String.self, forKey: .estimate)
            x = try c.decodeIfPresent(String.self, forKey: .x)
            halfWidth = try c.decode(Double.self, forKey: .halfWidth)
            expectedCases = try c.decode(Double.self, forKey: .expectedCases)
            expectedShare = try c.decodeIfPresent(Double.self, forKey: .expectedShare)
            continual = try c.decodeIfPresent(Bool.self, forKey: .continual)
        }
    }

    /// A table with a fixed cost and no target (the backlog at ρ = 1/200, say).
    public struct FixedTable: Sendable, Codable, Hashable {
        /// The table kind.
        public var table: TableKind
        /// Its breakdown.
        public var breakdown: [BreakdownDimension] = []
        /// Its pooling.
        public var poolCohorts: CohortPooling? = nil
        /// Its ρ per release, an exact rational.
        public var rho: String

        /// A fixed table.
        public init(table: TableKind, breakdown: [BreakdownDimension] = [], poolCohorts: CohortPooling? = nil, rho: String) {
            self.table = table
            self.breakdown = breakdown
            self.poolCohorts = poolCohorts
            self.rho = rho
        }

        enum CodingKeys: String, CodingKey {
            case table, breakdown, rho
            case poolCohorts = "pool_cohorts"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            table = try c.decode(TableKind.self, forKey: .table)
            breakdown = try c.decodeIfPresent([BreakdownDimension].self, forKey: .breakdown) ?? []
            poolCohorts = try c.decodeIfPresent(CohortPooling.self, forKey: .poolCohorts)
            rho = try c.decode(String.self, forKey: .rho)
        }
    }

    /// What the steward asks (`plazo release plan --targets FILE`).
    public struct Request: Sendable, Codable, Hashable {
        /// How many releases will count each cohort (eight quarterly releases: 8).
        public var releasesPerCohort: Int
        /// Each cohort's lifetime budget ρ (exact rational); the ledger's default when absent (CLI).
        public var lifetimeRho: String?
        /// The confidence level of the half-widths (default 0.95).
        public var confidenceLevel: Double? = nil
        /// Targets, one per table.
        public var targets: [Target]
        /// Tables with a fixed ρ per release and no target.
        public var fixedTables: [FixedTable]? = nil

        /// A request.
        public init(
            releasesPerCohort: Int, lifetimeRho: String? = nil, confidenceLevel: Double? = nil, targets: [Target],
            fixedTables: [FixedTable]? = nil
        ) {
            self.releasesPerCohort = releasesPerCohort
            self.lifetimeRho = lifetimeRho
            self.confidenceLevel = confidenceLevel
            self.targets = targets
            self.fixedTables = fixedTables
        }

        enum CodingKeys: String, CodingKey {
            case targets
            case releasesPerCohort = "releases_per_cohort", lifetimeRho = "lifetime_rho", confidenceLevel = "confidence_level"
            case fixedTables = "fixed_tables"
        }
    }

    /// The plan of one target.
    public struct PlannedTarget: Sendable, Codable, Hashable {
        /// The target as asked.
        public var target: Target
        /// The share planned for (its name and argument).
        public var estimate: String
        /// Its argument.
        public var x: String
        /// The smallest ρ per release that meets the target.
        public var neededRhoPerRelease: Double
        /// The ρ per release proposed (the needed one scaled to spend the budget, or the budget's
        /// share when the targets do not fit), an exact rational.
        public var rhoPerRelease: String
        /// The half-width predicted at the proposed ρ.
        public var predictedHalfWidth: Double
        /// Whether the prediction meets the target.
        public var met: Bool
        /// For a target with a breakdown and no pooling: the half-width the same ρ would give
        /// pooled by year (four times the cases), so the steward sees what pooling buys.
        public var predictedHalfWidthPooledByYear: Double?

        enum CodingKeys: String, CodingKey {
            case target, estimate, x, met
            case neededRhoPerRelease = "needed_rho_per_release", rhoPerRelease = "rho_per_release"
            case predictedHalfWidth = "predicted_half_width", predictedHalfWidthPooledByYear = "predicted_half_width_pooled_by_year"
        }
    }

    /// The planner's answer.
    public struct Plan: Sendable, Codable, Hashable {
        /// Whether every target is met within the lifetime budget.
        public var feasible: Bool
        /// The lifetime budget planned with.
        public var lifetimeRho: String
        /// ρ per release of all tables (targets and fixed), exact.
        public var rhoPerRelease: String
        /// What a cohort spends over the schedule (releases × ρ per release), as a number.
        public var lifetimeSpend: Double
        /// The lifetime budget that would meet every target (equal to the needs when they fit).
        public var lifetimeRhoNeeded: Double
        /// Per target.
        public var targets: [PlannedTarget]
        /// Sentences: what fails and what would meet it.
        public var notes: [String]
        /// The tables of a release spec that carries out the plan (cutoff and cohorts to fill in).
        public var tables: [TableRequest]

        enum CodingKeys: String, CodingKey {
            case feasible, targets, notes, tables
            case lifetimeRho = "lifetime_rho", rhoPerRelease = "rho_per_release", lifetimeSpend = "lifetime_spend"
            case lifetimeRhoNeeded = "lifetime_rho_needed"
        }
    }

    /// For the share `name` at `x` of `kind`: how many of a group's cells its numerator sums (k)
    /// and how many its denominator sums (m), or nil when the planner cannot predict it (life-table
    /// curves and medians: plan time to charge with `charge_by_horizon`; the backlog, whose noisy
    /// cells are the age bands a cohort's follow-up reaches, one or two of five).
    public static func shareCells(_ kind: TableKind, name: String, x: String) -> (k: Int, m: Int)? {
        switch (kind, name) {
        case (.chargeByHorizon, "charged_within"):
            guard let h = Int(x), let k = ChargeHorizons.horizons.firstIndex(of: h) else { return nil }
            return (k + 1, ChargeHorizons.labels.count)
        case (.attrition, "reached_share"):
            guard let s = CaseStage.allCases.firstIndex(where: { $0.label == x }), s > 0 else { return nil }
            return (CaseStage.allCases.count - s, CaseStage.allCases.count)
        case (.dispositions, "share_of_charged"):
            return (1, ChargedOutcome.allCases.count)
        case (.victimUpdateRecency, "share_no_update_90d"):
            return (1, 2)
        default:
            return nil
        }
    }

    /// The default share of a kind a target is judged by.
    static func headline(_ kind: TableKind) -> (name: String, x: String)? {
        switch kind {
        case .chargeByHorizon: ("charged_within", "365")
        case .attrition: ("reached_share", "charged")
        case .dispositions: ("share_of_charged", "pending")
        case .victimUpdateRecency: ("share_no_update_90d", "")
        case .timeToFirstDecision, .victimUpdateTime, .backlog: nil
        }
    }

    /// The predicted half-width of a share summing `k` of `m` cells, at ρ per release, for a group
    /// of `cases` with share `p`, at level `confidence` (formula in the type's documentation).
    public static func predictedHalfWidth(k: Int, m: Int, rho: Double, cases: Double, share p: Double, confidence: Double) -> Double {
        let z = normalQuantile(1 - (1 - confidence) / 2)
        let c = (1 - p) * (1 - p) * Double(k) + p * p * Double(m - k)
        return z * (c / (2 * rho)).squareRoot() / cases
    }

    /// Plans `request` with lifetime budget `lifetimeRho`.
    public static func plan(_ request: Request, lifetimeRho: Rational) throws(ReleaseError) -> Plan {
        let level = request.confidenceLevel ?? 0.95
        guard level.isFinite, level >= 0.5, level <= 0.999 else { throw .invalidSpec("confidence_level must be between 0.5 and 0.999") }
        guard (1...ContinualCounting.maxHorizon * 4).contains(request.releasesPerCohort) else {
            throw .invalidSpec("releases_per_cohort must be a whole number from 1 to \(ContinualCounting.maxHorizon * 4)")
        }
        guard lifetimeRho.isPositive else { throw .invalidSpec("lifetime_rho must be > 0") }
        if request.targets.isEmpty { throw .invalidSpec("name at least one target") }
        let z = normalQuantile(1 - (1 - level) / 2)
        let releases = Double(request.releasesPerCohort)

        // Fixed tables: their ρ per release, exact.
        var fixed = Rational.zero
        var tables: [TableRequest] = []
        for (i, f) in (request.fixedTables ?? []).enumerated() {
            let rho: Rational
            do { rho = try Rational(parsing: f.rho) } catch { throw .invalidSpec("fixed_tables[\(i)].rho: \(error)") }
            guard rho.isPositive else { throw .invalidSpec("fixed_tables[\(i)].rho must be > 0") }
            do { fixed = try fixed.adding(rho) } catch { throw .invalidSpec("fixed_tables: \(error)") }
            tables.append(TableRequest(table: f.table, breakdown: f.breakdown, rho: f.rho, poolCohorts: f.poolCohorts))
        }

        // What each target needs per release.
        var needs: [(target: Target, name: String, x: String, variance: ShareVariance, p: Double, rho: Double)] = []
        for (i, t) in request.targets.enumerated() {
            let fallback = headline(t.table)
            guard let name = t.estimate ?? fallback?.name else {
                throw .invalidSpec("targets[\(i)].table \(t.table.rawValue): the planner predicts shares of charge_by_horizon, attrition, dispositions and victim_update_recency (plan time to charge with charge_by_horizon; the backlog's cells depend on which age bands a cohort's follow-up reaches: give it a fixed ρ)")
            }
            let x = t.x ?? (t.estimate == nil ? fallback?.x ?? "" : "")
            guard let (k, m) = shareCells(t.table, name: name, x: x) else {
                throw .invalidSpec("targets[\(i)]: the planner cannot predict \(name)\(x.isEmpty ? "" : "@\(x)") of \(t.table.rawValue)")
            }
            guard t.halfWidth > 0, t.halfWidth < 1 else { throw .invalidSpec("targets[\(i)].half_width must be a proportion between 0 and 1 (0.10 = ±10 points)") }
            guard t.expectedCases >= 1 else { throw .invalidSpec("targets[\(i)].expected_cases must be at least 1") }
            let variance: ShareVariance
            let p: Double
            if t.continual == true {
                guard t.table == .chargeByHorizon, name == "charged_within", t.poolCohorts == nil else {
                    throw .invalidSpec("targets[\(i)].continual: only charged_within of charge_by_horizon, not pooled by year, can be released continually")
                }
                guard request.releasesPerCohort <= ContinualCounting.maxHorizon else {
                    throw .invalidSpec("targets[\(i)].continual: a stream has at most \(ContinualCounting.maxHorizon) releases; releases_per_cohort is \(request.releasesPerCohort)")
                }
                // Without an expected share, the worst case: Var grows with p (the size's noise enters as p²).
                p = t.expectedShare ?? 1.0
                variance = try continualVariance(bands: k, share: p, releases: request.releasesPerCohort)
            } else {
                // Without an expected share, the worst case over p ∈ [0, 1]: the convex c(p) peaks at an end.
                p = t.expectedShare ?? (k >= m - k ? 0.0 : 1.0)
                variance = ShareVariance(perRho: ((1 - p) * (1 - p) * Double(k) + p * p * Double(m - k)) / 2, fixed: 0)
            }
            guard (0...1).contains(p) else { throw .invalidSpec("targets[\(i)].expected_share must be between 0 and 1") }
            // Var p̂ = (a/ρ + b)/N² ≤ (w/z)²  ⇔  ρ ≥ a / ((w·N/z)² − b).
            let room = (t.halfWidth * t.expectedCases / z) * (t.halfWidth * t.expectedCases / z) - variance.fixed
            guard room > 0 else {
                throw .invalidSpec(String(
                    format: "targets[%d]: ±%.3f cannot be met for %.0f cases released continually at any ρ: rounding the running totals alone gives ±%.3f; widen the target or plan the table without continual",
                    i, t.halfWidth, t.expectedCases, z * variance.fixed.squareRoot() / t.expectedCases))
            }
            needs.append((t, name, x, variance, p, variance.perRho / room))
        }
        let neededPerRelease = fixed.doubleValue + needs.reduce(0) { $0 + $1.rho }
        let neededLifetime = neededPerRelease * releases
        let budgetPerRelease = lifetimeRho.doubleValue / releases
        let room = budgetPerRelease - fixed.doubleValue
        let feasible = neededLifetime <= lifetimeRho.doubleValue * (1 + 1e-12) && room > 0

        // Proposed ρ per target: when the needs fit, scale them up to spend the budget by the
        // cohort's last release (the same proportions, every target then better than asked); when
        // they do not, share what is left after the fixed tables in the same proportions, and say
        // which targets fail.
        let totalNeeds = needs.reduce(0) { $0 + $1.rho }
        let scale = room > 0 ? room / totalNeeds : 0
        var planned: [PlannedTarget] = []
        var notes: [String] = []
        var spentPerRelease = fixed
        for n in needs {
            // An exact rational just below the proportional share (denominator 10⁴·…), so the
            // plan never exceeds the budget through rounding.
            let proposed = max(0, n.rho * scale)
            let exact = rationalBelow(proposed)
            let hw = exact.isPositive ? n.variance.halfWidth(rho: exact.doubleValue, cases: n.target.expectedCases, z: z) : .infinity
            var pooled: Double?
            if !n.target.breakdown.isEmpty, n.target.poolCohorts == nil, n.target.continual != true, exact.isPositive {
                pooled = n.variance.halfWidth(rho: exact.doubleValue, cases: 4 * n.target.expectedCases, z: z)
            }
            let met = hw <= n.target.halfWidth * (1 + 1e-9)
            if !met {
                let label = "\(n.target.table.rawValue)\(n.target.breakdown.isEmpty ? "" : " by " + n.target.breakdown.map(\.rawValue).joined(separator: ", "))\(n.target.poolCohorts.map { " pooled by \($0.rawValue)" } ?? "")\(n.target.continual == true ? " (continual)" : "")"
                var sentence = String(
                    format: "%@: ±%.3f predicted for %@%@ against ±%.3f wanted; it alone needs ρ = %.4g per release (%.4g over %d releases)",
                    label, hw, n.name, n.x.isEmpty ? "" : "@\(n.x)", n.target.halfWidth, n.rho, n.rho * releases, request.releasesPerCohort)
                if let pooled { sentence += String(format: "; pooled by year the same ρ gives ±%.3f", pooled) }
                notes.append(sentence)
            }
            if exact.isPositive {
                tables.append(TableRequest(
                    table: n.target.table, breakdown: n.target.breakdown, rho: exact.description, poolCohorts: n.target.poolCohorts,
                    continual: n.target.continual == true ? true : nil))
                spentPerRelease = (try? spentPerRelease.adding(exact)) ?? spentPerRelease
            }
            planned.append(PlannedTarget(
                target: n.target, estimate: n.name, x: n.x, neededRhoPerRelease: n.rho, rhoPerRelease: exact.description,
                predictedHalfWidth: hw, met: met, predictedHalfWidthPooledByYear: pooled))
        }
        if !feasible {
            notes.insert(String(
                format: "The targets need a lifetime budget of ρ = %.4g per cohort over %d releases (%.4g per release); the budget is ρ = %@.",
                neededLifetime, request.releasesPerCohort, neededPerRelease, lifetimeRho.description), at: 0)
        }
        return Plan(
            feasible: feasible && planned.allSatisfy(\.met), lifetimeRho: lifetimeRho.description, rhoPerRelease: spentPerRelease.description,
            lifetimeSpend: spentPerRelease.doubleValue * releases, lifetimeRhoNeeded: neededLifetime, targets: planned, notes: notes,
            tables: tables)
    }

    /// A planned share's variance as a function of its table's ρ per release, for a group of N
    /// cases: Var p̂ = (``perRho``/ρ + ``fixed``)/N².
    struct ShareVariance: Hashable {
        /// The part that shrinks with ρ.
        var perRho: Double
        /// The part that does not (the rounding of continual running totals).
        var fixed: Double

        /// The half-width z·√Var p̂ at `rho` for `cases`.
        func halfWidth(rho: Double, cases: Double, z: Double) -> Double {
            z * (perRho / rho + fixed).squareRoot() / cases
        }
    }

    /// The variance of `charged_within` summing `bands` bands of a continual table
    /// (``ContinualSchedule``), at its least precise release of `releases`, for share `p`.
    ///
    /// The share is C/N̂: C sums the bands' running totals, each decoded from the square-root
    /// factorization's encoded values with variance v(k)/ρ at release k (v from
    /// ``ContinualSchedule/bandVariance(step:)`` at ρ = 1 per release, exact since it scales as
    /// 1/ρ), and rounded to an integer (1/12 each); N̂ is measured once with a twentieth of the
    /// lifetime ρ, variance 1/(2·ρ·T/20) = 10/(T·ρ), independent of the bands. To first order
    /// (as the release's own intervals, `ContinualDerivation`): Var p̂ ≈ (Var C + p²·Var N̂)/N².
    /// A band's variance grows with k, so the last release is the least precise; the maximum is
    /// taken all the same. `AccuracyPlannerTests` checks it against realised errors.
    static func continualVariance(bands k: Int, share p: Double, releases: Int) throws(ReleaseError) -> ShareVariance {
        let schedule: ContinualSchedule
        do { schedule = try ContinualSchedule(horizon: releases, perRelease: .one) } catch { throw .invalidSpec("\(error)") }
        let band = (1...releases).map { schedule.bandVariance(step: $0) }.max() ?? 0
        return ShareVariance(perRho: Double(k) * band + p * p * 10 / Double(releases), fixed: Double(k) / 12)
    }

    /// The largest rational n/10⁶ not above `value` (0 for values below 10⁻⁶), reduced.
    static func rationalBelow(_ value: Double) -> Rational {
        let n = Int64((value * 1_000_000).rounded(.down))
        return (try? Rational(n, 1_000_000)) ?? .zero
    }
}
