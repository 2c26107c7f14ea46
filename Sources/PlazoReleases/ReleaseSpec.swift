import Foundation
import PlazoModel
import PlazoPrivacy

/// The noise mechanism of a release.
public enum ReleaseMechanism: String, Sendable, Codable, Hashable, CaseIterable {
    /// Discrete Gaussian noise, ρ-zCDP (the default). Each table states its ρ.
    case discreteGaussian = "discrete_gaussian"
    /// Discrete Laplace noise, ε-DP (charged to the ledger as ε²/2 zCDP). Each table states its ε.
    case discreteLaplace = "discrete_laplace"
}

/// How a table groups the release's cohorts (quarters of first report) on its outermost axis.
public enum CohortPooling: String, Sendable, Codable, Hashable, CaseIterable {
    /// One group per report year: the four quarters of a year together (`"2025"`). Every quarter
    /// of each year the table touches must be among the release's cohorts.
    case year = "year"
}

/// One table of a release: its kind, its breakdown (besides the cohort, which is always the
/// outermost axis) and its privacy cost.
public struct TableRequest: Sendable, Codable, Hashable {
    /// Which table.
    public var table: TableKind
    /// Zero, one or two breakdown dimensions crossed with the cohort (distinct).
    public var breakdown: [BreakdownDimension]
    /// The table's ρ as an exact rational (`"1/64"`, `"0.01"`); required for the Gaussian mechanism.
    public var rho: String?
    /// The table's ε as an exact rational; required for the Laplace mechanism.
    public var epsilon: String?
    /// Pool the cohorts on the table's outermost axis (`"pool_cohorts": "year"`): one group per
    /// report year instead of per quarter, for breakdowns whose quarterly cells are too small to
    /// read (state figures at realistic volumes). A public choice made before looking at the data:
    /// each case is still in one cell and is charged to its own quarter's budget. Nil = by quarter.
    public var poolCohorts: CohortPooling?
    /// Release the table **continually** (`"continual": true`, `charge_by_horizon` only): each
    /// cohort's charge bands are one stream over its `releases_per_cohort` releases, with noise
    /// correlated across releases by the square-root factorization, and its size measured once
    /// (`docs/privacy-model.md` §4a). `rho` is then the average per release: the cohort's lifetime
    /// ρ for the table is `rho × releases_per_cohort`, spent front-loaded. Nil or false: every
    /// release draws fresh noise from `rho`.
    public var continual: Bool?

    /// A table request.
    public init(
        table: TableKind, breakdown: [BreakdownDimension] = [], rho: String? = nil, epsilon: String? = nil, poolCohorts: CohortPooling? = nil,
        continual: Bool? = nil
    ) {
        self.table = table
        self.breakdown = breakdown
        self.rho = rho
        self.epsilon = epsilon
        self.poolCohorts = poolCohorts
        self.continual = continual
    }

    enum CodingKeys: String, CodingKey {
        case table, breakdown, rho, epsilon, continual
        case poolCohorts = "pool_cohorts"
    }
}

/// What a steward asks to release (a JSON file for `plazo release create --spec FILE`, or the body
/// of the steward's HTTP request). See `docs/examples/quarterly-release.json`.
///
/// Privacy accounting of a spec: each table has sensitivity 1 (every case in at most one cell), so
/// table i costs ρᵢ (Gaussian, σᵢ² = 1/(2ρᵢ)) or εᵢ²/2 (Laplace, bᵢ = 1/εᵢ). The tables of one release
/// compose **sequentially** within each cohort: the release costs ρ = Σᵢ ρᵢ, charged to every
/// cohort it names. Cohorts hold disjoint cases, so they compose in **parallel** and each cohort's
/// budget is charged ρ once.
public struct ReleaseSpec: Sendable, Codable, Hashable {
    /// A human title (`"Quarterly release 2026Q3"`), used as the ledger purpose.
    public var title: String
    /// The data cutoff, ISO date `YYYY-MM-DD`: events after it are ignored, open cases are censored there.
    public var cutoff: String
    /// The cohorts (report quarters, `YYYYQn`) released. Each must start on or before the cutoff.
    public var cohorts: [String]
    /// The mechanism (default discrete Gaussian).
    public var mechanism: ReleaseMechanism?
    /// Confidence level of every published interval (default 0.95).
    public var confidenceLevel: Double?
    /// Replicates of the noise simulation behind derived-estimate intervals (default 200, 20–5000).
    public var simulationReplicates: Int?
    /// The tables.
    public var tables: [TableRequest]
    /// The schedule this release belongs to: how many releases will count each of its cohorts
    /// (eight quarterly releases: 8). When given, a release whose ρ times this number exceeds a
    /// cohort's lifetime budget is refused before anything is spent, with the ρ per release that
    /// fits: a schedule must not spend a cohort's budget before its last release. Optional.
    public var releasesPerCohort: Int? = nil

    /// A spec.
    public init(
        title: String, cutoff: String, cohorts: [String], mechanism: ReleaseMechanism? = nil,
        confidenceLevel: Double? = nil, simulationReplicates: Int? = nil, tables: [TableRequest]
    ) {
        self.title = title
        self.cutoff = cutoff
        self.cohorts = cohorts
        self.mechanism = mechanism
        self.confidenceLevel = confidenceLevel
        self.simulationReplicates = simulationReplicates
        self.tables = tables
    }

    enum CodingKeys: String, CodingKey {
        case title, cutoff, cohorts, mechanism, confidenceLevel, simulationReplicates, tables
        case releasesPerCohort = "releases_per_cohort"
    }

    /// Decodes a spec from JSON bytes. Every refusal is a sentence a steward can act on: the field
    /// (`tables[2].breakdown[0]`), what is wrong and, for names, the valid values; never a Swift
    /// decoding message.
    public static func decode(json: some DataProtocol) throws(ReleaseError) -> ReleaseSpec {
        let raw: Wire
        do { raw = try JSONDecoder().decode(Wire.self, from: Data(json)) } catch let error as DecodingError {
            throw .invalidSpec(Self.explain(error))
        } catch {
            throw .invalidSpec("the spec is not JSON")
        }
        func required<T>(_ value: T?, _ name: String) throws(ReleaseError) -> T {
            guard let value else { throw .invalidSpec("missing field \(name)") }
            return value
        }
        var mechanism: ReleaseMechanism?
        if let m = raw.mechanism {
            guard let known = ReleaseMechanism(rawValue: m) else {
                throw .invalidSpec("mechanism \"\(m)\" is unknown; valid: \(Self.list(ReleaseMechanism.allCases.map(\.rawValue)))")
            }
            mechanism = known
        }
        var tables: [TableRequest] = []
        for (i, t) in try required(raw.tables, "tables").enumerated() {
            let name = try required(t.table, "tables[\(i)].table")
            guard let kind = TableKind(rawValue: name) else {
                throw .invalidSpec("tables[\(i)].table \"\(name)\" is unknown; valid: \(Self.list(TableKind.allCases.map(\.rawValue)))")
            }
            var breakdown: [BreakdownDimension] = []
            for (j, d) in (t.breakdown ?? []).enumerated() {
                guard let dimension = BreakdownDimension(rawValue: d) else {
                    throw .invalidSpec(
                        "tables[\(i)].breakdown[\(j)] \"\(d)\" is unknown; valid: \(Self.list(BreakdownDimension.allCases.map(\.rawValue)))")
                }
                breakdown.append(dimension)
            }
            var pooling: CohortPooling?
            if let p = t.poolCohorts {
                guard let known = CohortPooling(rawValue: p) else {
                    throw .invalidSpec("tables[\(i)].pool_cohorts \"\(p)\" is unknown; valid: \(Self.list(CohortPooling.allCases.map(\.rawValue)))")
                }
                pooling = known
            }
            tables.append(TableRequest(table: kind, breakdown: breakdown, rho: t.rho, epsilon: t.epsilon, poolCohorts: pooling, continual: t.continual))
        }
        var spec = ReleaseSpec(
            title: try required(raw.title, "title"), cutoff: try required(raw.cutoff, "cutoff"),
            cohorts: try required(raw.cohorts, "cohorts"), mechanism: mechanism, confidenceLevel: raw.confidenceLevel,
            simulationReplicates: raw.simulationReplicates, tables: tables)
        spec.releasesPerCohort = raw.releasesPerCohort
        return spec
    }

    /// The spec as it arrives: names as strings, so that an unknown one gets a sentence with the
    /// valid values rather than a decoding error.
    private struct Wire: Decodable {
        struct Table: Decodable {
            var table: String?
            var breakdown: [String]?
            var rho: String?
            var epsilon: String?
            var poolCohorts: String?
            var continual: Bool?

            enum CodingKeys: String, CodingKey {
                case table, breakdown, rho, epsilon, continual
                case poolCohorts = "pool_cohorts"
            }
        }
        var title: String?
        var cutoff: String?
        var cohorts: [String]?
        var mechanism: String?
        var confidenceLevel: Double?
        var simulationReplicates: Int?
        var tables: [Table]?
        var releasesPerCohort: Int?

        /// Each two-word field in snake_case (`confidence_level`, the API's convention) or in the
        /// camelCase of the first spec files (`confidenceLevel`); not both.
        enum CodingKeys: String, CodingKey {
            case title, cutoff, cohorts, mechanism, tables
            case confidenceLevel = "confidence_level", confidenceLevelCamel = "confidenceLevel"
            case simulationReplicates = "simulation_replicates", simulationReplicatesCamel = "simulationReplicates"
            case releasesPerCohort = "releases_per_cohort"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func either<T: Decodable>(_ snake: CodingKeys, _ camel: CodingKeys) throws -> T? {
                if c.contains(snake), c.contains(camel) {
                    throw DecodingError.dataCorruptedError(
                        forKey: snake, in: c, debugDescription: "give \(snake.rawValue) or \(camel.rawValue), not both")
                }
                return try c.decodeIfPresent(T.self, forKey: c.contains(camel) ? camel : snake)
            }
            title = try c.decodeIfPresent(String.self, forKey: .title)
            cutoff = try c.decodeIfPresent(String.self, forKey: .cutoff)
            cohorts = try c.decodeIfPresent([String].self, forKey: .cohorts)
            mechanism = try c.decodeIfPresent(String.self, forKey: .mechanism)
            tables = try c.decodeIfPresent([Table].self, forKey: .tables)
            confidenceLevel = try either(.confidenceLevel, .confidenceLevelCamel)
            simulationReplicates = try either(.simulationReplicates, .simulationReplicatesCamel)
            releasesPerCohort = try c.decodeIfPresent(Int.self, forKey: .releasesPerCohort)
        }
    }

    private static func list(_ names: [String]) -> String { names.joined(separator: ", ") }

    /// A decoding error as a sentence naming the field (`tables[1].rho`) and what was expected.
    static func explain(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var out = ""
            for k in keys {
                if let i = k.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + k.stringValue }
            }
            return out
        }
        func kind(_ type: Any.Type) -> String {
            switch type {
            case is Int.Type: "a whole number"
            case is Double.Type: "a number"
            case is String.Type: "a string (rationals such as rho are strings: \"1/100\")"
            case is [String].Type, is [Wire.Table].Type: "a list"
            default: "an object"
            }
        }
        switch error {
        case let .typeMismatch(type, context):
            return context.codingPath.isEmpty ? "the spec must be a JSON object" : "field \(path(context.codingPath)) must be \(kind(type))"
        case let .valueNotFound(type, context):
            return "field \(path(context.codingPath)) must be \(kind(type)), not null"
        case let .keyNotFound(key, context):
            return "missing field \(path(context.codingPath + [key]))"
        case let .dataCorrupted(context):
            if context.debugDescription.hasPrefix("give ") { return context.debugDescription }
            return context.codingPath.isEmpty ? "the spec is not valid JSON" : "field \(path(context.codingPath)) has an invalid value"
        @unknown default:
            return "the spec could not be read"
        }
    }

    /// Checks the spec and resolves it; throws ``ReleaseError/invalidSpec(_:)`` with the first problem.
    public func validated() throws(ReleaseError) -> ValidatedSpec {
        if title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw .invalidSpec("title must not be empty") }
        guard let cutoffDay = Day(iso: cutoff) else { throw .invalidSpec("cutoff \"\(cutoff)\" is not a date YYYY-MM-DD") }
        if cohorts.isEmpty { throw .invalidSpec("name at least one cohort") }
        var quarters: [Quarter] = []
        for c in cohorts {
            guard let q = Quarter(c), q.year >= 2000, q.year <= 2255 else { throw .invalidSpec("cohort \"\(c)\" is not a quarter YYYYQn") }
            guard let first = q.firstDay, first <= cutoffDay else { throw .invalidSpec("cohort \(c) starts after the cutoff \(cutoff)") }
            if quarters.contains(q) { throw .invalidSpec("cohort \(c) is listed twice") }
            quarters.append(q)
        }
        quarters.sort()
        let mechanism = self.mechanism ?? .discreteGaussian
        let level = confidenceLevel ?? 0.95
        guard level.isFinite, level >= 0.5, level <= 0.999 else {
            throw .invalidSpec("confidence_level must be a level between 0.5 and 0.999 (e.g. 0.95), not \(level)")
        }
        let replicates = simulationReplicates ?? 200
        guard (20...5000).contains(replicates) else {
            throw .invalidSpec("simulation_replicates must be a whole number from 20 to 5000 (default 200), not \(replicates)")
        }
        if tables.isEmpty { throw .invalidSpec("name at least one table") }
        if let n = releasesPerCohort, !(1...64).contains(n) {
            throw .invalidSpec("releases_per_cohort must be a whole number from 1 to 64, not \(n)")
        }
        var resolved: [ValidatedSpec.Table] = []
        for (i, t) in tables.enumerated() {
            if t.breakdown.count > 2 { throw .invalidSpec("table \(i + 1) (\(t.table.rawValue)): at most two breakdown dimensions besides the cohort") }
            if Set(t.breakdown).count != t.breakdown.count { throw .invalidSpec("table \(i + 1): a breakdown dimension is repeated") }
            let cost: PrivacyCost
            let noise: any CountMechanism
            do {
                switch mechanism {
                case .discreteGaussian:
                    guard let text = t.rho, t.epsilon == nil else { throw ReleaseError.invalidSpec("table \(i + 1): give rho (and no epsilon) for the discrete Gaussian mechanism") }
                    let rho = try Rational(parsing: text)
                    guard rho.isPositive else { throw ReleaseError.invalidSpec("table \(i + 1): rho must be > 0") }
                    // Sensitivity: each case in at most one cell with weight 1, so Δ₂² = 1 and
                    // σ² = 1/(2ρ) spends exactly ρ (CKS 2020, Thm 4).
                    let m = try DiscreteGaussianMechanism(rho: rho)
                    cost = m.cost
                    noise = m
                case .discreteLaplace:
                    guard let text = t.epsilon, t.rho == nil else { throw ReleaseError.invalidSpec("table \(i + 1): give epsilon (and no rho) for the discrete Laplace mechanism") }
                    let eps = try Rational(parsing: text)
                    guard eps.isPositive else { throw ReleaseError.invalidSpec("table \(i + 1): epsilon must be > 0") }
                    // Δ₁ = 1, so scale b = 1/ε spends exactly ε (charged as ε²/2 zCDP).
                    let m = try DiscreteLaplaceMechanism(epsilon: eps)
                    cost = m.cost
                    noise = m
                }
            } catch let e as ReleaseError { throw e } catch let e as PrivacyError {
                throw .invalidSpec("table \(i + 1): \(e)")
            } catch { throw .invalidSpec("table \(i + 1): \(error)") }
            let groups = try Self.cohortGroups(quarters, pooling: t.poolCohorts, field: "tables[\(i)].pool_cohorts")
            if resolved.contains(where: { $0.kind == t.table && $0.breakdown == t.breakdown && $0.pooling == t.poolCohorts }) {
                throw .invalidSpec("table \(i + 1): the same table, breakdown and pooling are requested twice")
            }
            var schedule: ContinualSchedule?
            if t.continual == true {
                schedule = try continualSchedule(t, index: i, cost: cost, quarters: quarters, cutoff: cutoffDay, mechanism: mechanism)
            }
            resolved.append(.init(
                kind: t.table, breakdown: t.breakdown, cost: cost, mechanism: noise, pooling: t.poolCohorts, cohortGroups: groups,
                continual: schedule))
        }
        let total: Rational
        do { total = try PrivacyCost.totalRho(resolved.map(\.cost)) } catch { throw .invalidSpec("total cost: \(error)") }
        return ValidatedSpec(
            spec: self, cutoff: cutoffDay, cohorts: quarters, mechanism: mechanism, confidenceLevel: level,
            replicates: replicates, tables: resolved, totalRho: total)
    }
}

extension ReleaseSpec {
    /// The groups of a table's outermost axis: indices into the sorted `quarters`. By quarter, one
    /// group per cohort; by year, one group per report year that has all four of its quarters
    /// among the cohorts. The quarters of a year not complete among the cohorts (the current year,
    /// say) are in no group of the table: a partial year would be a different population from one
    /// release to the next, so `2026` always means all of 2026. Which quarters are left out depends
    /// on the spec alone, never on the data. A pooled table with no complete year is refused with
    /// ``ReleaseError/invalidSpec(_:)`` naming `field` and the quarters missing.
    static func cohortGroups(_ quarters: [Quarter], pooling: CohortPooling?, field: String) throws(ReleaseError) -> [CohortGroup] {
        guard let pooling else {
            return quarters.enumerated().map { CohortGroup(label: $0.element.description, cohorts: [$0.offset]) }
        }
        switch pooling {
        case .year:
            var groups: [CohortGroup] = []
            var missing: [String] = []
            for year in Set(quarters.map(\.year)).sorted() {
                let members = quarters.indices.filter { quarters[$0].year == year }
                if members.count == 4 {
                    groups.append(CohortGroup(label: String(year), cohorts: members))
                } else {
                    missing += (1...4).filter { q in !quarters.contains { $0.year == year && $0.quarter == q } }.map { "\(year)Q\($0)" }
                }
            }
            if groups.isEmpty {
                throw .invalidSpec(
                    "\(field): pooling by year needs a report year with all four quarters among the cohorts; none has (missing \(missing.joined(separator: ", ")))")
            }
            return groups
        }
    }
}

/// One group of a table's outermost axis: a cohort, or several pooled (a report year).
public struct CohortGroup: Sendable, Codable, Hashable {
    /// `2025Q1` for one cohort, `2025` for a pooled year.
    public var label: String
    /// Indices of its cohorts in the release's sorted cohort list.
    public var cohorts: [Int]
}

/// A checked spec with its parameters resolved.
public struct ValidatedSpec: Sendable {
    /// One resolved table.
    public struct Table: Sendable {
        /// The kind.
        public var kind: TableKind
        /// The breakdown dimensions.
        public var breakdown: [BreakdownDimension]
        /// Its privacy cost.
        public var cost: PrivacyCost
        /// Its mechanism (sensitivity 1).
        public var mechanism: any CountMechanism
        /// How its cohorts are pooled (nil: by quarter).
        public var pooling: CohortPooling?
        /// The groups of its outermost axis, in order.
        public var cohortGroups: [CohortGroup]
        /// For a continual table, its stream's schedule (nil: fresh noise from ``cost``).
        public var continual: ContinualSchedule? = nil

        /// The key naming its streams in the store: kind, then breakdown dimensions.
        public var streamKey: String { ([kind.rawValue] + breakdown.map(\.rawValue)).joined(separator: "|") }
    }

    /// The spec as given.
    public var spec: ReleaseSpec
    /// The cutoff day.
    public var cutoff: Day
    /// The cohorts, sorted.
    public var cohorts: [Quarter]
    /// The mechanism.
    public var mechanism: ReleaseMechanism
    /// Confidence level.
    public var confidenceLevel: Double
    /// Simulation replicates.
    public var replicates: Int
    /// The tables in spec order.
    public var tables: [Table]
    /// Σ ρ of the tables: what each cohort is charged.
    public var totalRho: Rational
}

/// Release failures. None carries an un-noised number or a case pseudonym.
public enum ReleaseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The spec is malformed (the sentence says what).
    case invalidSpec(String)
    /// Some cohort's budget would be exceeded: nothing was computed or stored, the ledger is unchanged.
    case budgetExceeded(String)
    /// No release with this id.
    case notFound(Int64)
    /// No draft with this id.
    case draftNotFound(Int64)
    /// A draft that cannot be published (already published or withdrawn, or its spec is refused
    /// now); the sentence says why.
    case draftNotPublishable(String)
    /// A status change that does not apply to the current status (withdrawing a withdrawn release,
    /// opening a withdrawn one to the public, withdrawing a published draft).
    case invalidTransition(String)
    /// Noise could not be drawn (libsodium unavailable, parameter limits).
    case noise(String)
    /// The store failed.
    case store(String)
    /// A stored document could not be read.
    case corruptDocument(String)
    /// A dashboard query that the release cannot answer.
    case invalidQuery(String)

    /// Stable machine-readable code.
    public var code: String {
        switch self {
        case .invalidSpec: "invalid_spec"
        case .budgetExceeded: "budget_exceeded"
        case .notFound: "release_not_found"
        case .draftNotFound: "draft_not_found"
        case .draftNotPublishable: "draft_not_publishable"
        case .invalidTransition: "invalid_transition"
        case .noise: "noise_failure"
        case .store: "store_failure"
        case .corruptDocument: "corrupt_release"
        case .invalidQuery: "invalid_query"
        }
    }

    /// A human sentence.
    public var description: String {
        switch self {
        case let .invalidSpec(s): "invalid release spec: \(s)"
        case let .budgetExceeded(s): "release refused, \(s)"
        case let .notFound(id): "no release \(id)"
        case let .draftNotFound(id): "no draft \(id)"
        case let .draftNotPublishable(s): "the draft cannot be published: \(s)"
        case let .invalidTransition(s): s
        case let .noise(s): "noise could not be drawn: \(s)"
        case let .store(s): "release store error: \(s)"
        case let .corruptDocument(s): "stored release unreadable: \(s)"
        case let .invalidQuery(s): "invalid query: \(s)"
        }
    }
}
