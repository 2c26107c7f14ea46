import Foundation
import PlazoModel
import PlazoPrivacy

/// An (ε, δ) pair implied by a release's ρ (reporting only).
public struct EpsilonDelta: Sendable, Codable, Hashable {
    /// δ.
    public var delta: Double
    /// The smallest ε with ρ-zCDP ⇒ (ε, δ)-DP (CKS 2020, Cor. 13), rounded up.
    public var epsilon: Double
}

/// What one released table is, how it was protected and how its cells and estimates are laid out.
public struct ReleasedTableInfo: Sendable, Codable, Hashable {
    /// The kind.
    public var kind: TableKind
    /// The breakdown dimensions after the cohort.
    public var breakdown: [BreakdownDimension]
    /// L1 = L2 sensitivity of the count vector under adding/removing one case (always 1).
    public var sensitivity: Int
    /// The table's exact zCDP cost ρ (for Laplace: ε²/2).
    public var rho: String
    /// For the Laplace mechanism, the table's ε.
    public var epsilon: String?
    /// The noise distribution (`discrete_gaussian(sigma²=…)` / `discrete_laplace(scale=…)`).
    public var noise: String
    /// σ² of the Gaussian noise (exact), or nil.
    public var sigmaSquared: String?
    /// Scale b of the Laplace noise (exact), or nil.
    public var laplaceScale: String?
    /// Standard deviation of the per-cell noise.
    public var noiseStandardDeviation: Double
    /// Half-width h of every cell's interval at the release's confidence level: [y − h, y + h]
    /// contains the true count with probability ≥ level (exact, from the discrete distribution).
    public var halfWidth: Int64
    /// Cell labels within a group (`"0-29|charged"`).
    public var cellLabels: [String]
    /// Derived estimates per group.
    public var estimates: [EstimateDescriptor]
    /// How the table pools the release's cohorts (`pool_cohorts`; nil: one group per quarter).
    public var pooling: CohortPooling? = nil
    /// The groups of the outermost axis when pooled (a report year and its cohorts' indices);
    /// nil: one per cohort of the release, in order.
    public var cohortGroups: [CohortGroup]? = nil
    /// For a continual table (`"continual": true`), its streams at this release: the cells are
    /// decoded running totals, and their variances differ by cohort (nil: fresh noise, one
    /// variance for every cell).
    public var continual: ContinualTableInfo? = nil

    /// Number of breakdown groups per cohort (per cohort group when pooled).
    public var groupsPerCohort: Int { breakdown.reduce(1) { $0 * $1.cardinality } }

    enum CodingKeys: String, CodingKey {
        case kind, breakdown, sensitivity, rho, epsilon, noise, sigmaSquared, laplaceScale, noiseStandardDeviation, halfWidth
        case cellLabels, estimates
        case pooling = "pool_cohorts"
        case cohortGroups = "cohort_groups"
        case continual
    }
}

/// Everything about a release except its numbers.
public struct ReleaseMetadata: Sendable, Codable, Hashable {
    /// The release id.
    public var id: Int64
    /// The title.
    public var title: String
    /// Who created it.
    public var requester: String
    /// When.
    public var createdAt: Date
    /// The engine version that computed it (``ReleaseEngine/codeVersion``).
    public var codeVersion: String
    /// The data cutoff, `YYYY-MM-DD`.
    public var cutoff: String
    /// The cohorts released, sorted.
    public var cohorts: [String]
    /// The mechanism.
    public var mechanism: ReleaseMechanism
    /// The confidence level of every interval.
    public var confidenceLevel: Double
    /// Σ ρ of the tables, exact: what each cohort's budget was charged.
    public var totalRho: String
    /// The same as a decimal.
    public var totalRhoValue: Double
    /// Equivalent (ε, δ)-DP guarantees per cohort for this release alone, at δ = 1e-6 and 1e-9.
    public var epsilonDelta: [EpsilonDelta]
    /// The ledger spend that paid for it.
    public var ledgerSpendID: Int64
    /// Batches held by the store when the release was computed.
    public var batchesIncluded: Int
    /// Distinct agencies among those batches.
    public var agenciesIncluded: Int
    /// The seed of the interval simulations (post-processing; see ``SimulationRNG``), decimal.
    public var simulationSeed: String
    /// Replicates of the interval simulations.
    public var simulationReplicates: Int
    /// The spec as given.
    public var spec: ReleaseSpec
    /// The tables, in spec order.
    public var tables: [ReleasedTableInfo]
    /// The acceptance number (`batch.seq`) of the last batch the release's data included: the
    /// data, ``batchesIncluded`` and ``agenciesIncluded`` are all as of this batch, and the
    /// release pinned its cases' cohorts here. Nil for releases made before pins existed.
    public var batchWatermark: Int64? = nil
    /// Per cohort, the cumulative spend after this release and the cohort's budget: the
    /// guarantee every case counted in that cohort has, over all releases so far.
    public var cohortSpend: [CohortSpend]? = nil

    // The fields added with pins are snake_case in JSON (the older ones keep their stored names).
    enum CodingKeys: String, CodingKey {
        case id, title, requester, createdAt, codeVersion, cutoff, cohorts, mechanism, confidenceLevel, totalRho, totalRhoValue
        case epsilonDelta, ledgerSpendID, batchesIncluded, agenciesIncluded, simulationSeed, simulationReplicates, spec, tables
        case batchWatermark = "batch_watermark"
        case cohortSpend = "cohort_spend"
    }
}

/// A cohort's cumulative privacy spend as published with a release.
public struct CohortSpend: Sendable, Codable, Hashable {
    /// The cohort (`2024Q1`).
    public var cohort: String
    /// Σ ρ charged to the cohort by every release up to and including this one (ledger units, exact decimal).
    public var spentRho: String
    /// The same as a number.
    public var spentRhoValue: Double
    /// The cohort's budget ρ when this release was made.
    public var budgetRho: String
    /// The cumulative (ε, δ) of the cohort after this release, at δ = 1e-6 (reporting only).
    public var epsilonAtDelta1e6: Double

    enum CodingKeys: String, CodingKey {
        case cohort
        case spentRho = "spent_rho"
        case spentRhoValue = "spent_rho_value"
        case budgetRho = "budget_rho"
        case epsilonAtDelta1e6 = "epsilon_at_delta_1e-6"
    }
}

/// One released table's numbers.
public struct ReleasedTable: Sendable, Hashable {
    /// Its description.
    public var info: ReleasedTableInfo
    /// The raw noisy counts (true count + noise; may be negative), group-major: index
    /// `group · cellsPerGroup + cell`, groups ordered cohort, then breakdown codes in code order.
    public var noisyCounts: [Int64]
    /// Derived estimates: `(value, low, high)` triples, index `3·(group · estimates + e)`. NaN =
    /// undefined (zero denominator, median not reached) or unbounded interval end.
    public var derived: [Double]

    /// Number of groups.
    public var groupCount: Int { noisyCounts.count / info.cellLabels.count }
}

/// A published count with its interval.
public struct NoisyCount: Sendable, Hashable, Codable {
    /// The raw noisy count (unbiased; may be negative).
    public var noisy: Int64
    /// The published count: the noisy count, or 0 if negative.
    public var value: Int64
    /// Interval low: max(0, noisy − h).
    public var low: Int64
    /// Interval high: max(0, noisy + h).
    public var high: Int64
}

/// Whether a derived estimate has a value, and if not, why (`docs/metrics.md` §3).
public enum EstimateStatus: String, Sendable, Codable, Hashable, CaseIterable {
    /// Published with its interval.
    case ok
    /// A curve point or horizon estimate past the group's longest possible follow-up (the cutoff
    /// minus the first day of the cohort's quarter): no case can have been observed that long.
    case beyondFollowUp = "beyond_follow_up"
    /// A median that the curve does not reach within follow-up: "not reached by day X", where X is
    /// ``Estimate/observedUntil``.
    case notReached = "not_reached"
    /// No meaningful value: a share of a (noisy) total that is not positive.
    case undefined
    /// Not enough data to say anything: a share, curve point or median whose denominator (the
    /// noisy number of cases it is a share of) is 0 or less, or whose denominator's interval
    /// reaches 0. A share of possibly nothing is not a reliable zero, so no value is published
    /// (``Estimate/guarded(_:denominator:)``; `docs/metrics.md` §4).
    case insufficientData = "insufficient_data"
}

/// When a published estimate is too noisy to read (`docs/metrics.md` §4): dashboards grey it out.
public enum Reliability {
    /// A proportion whose interval half-width exceeds this (10 percentage points) is unreliable.
    public static let maxProportionHalfWidth = 0.10
    /// A count or a number of days whose interval half-width exceeds this fraction of its value
    /// (relative half-width over 50 %) is unreliable; so is one with an unbounded interval end.
    public static let maxRelativeHalfWidth = 0.5

    /// Whether an estimate of `unit` with this value and interval is reliable.
    public static func isReliable(unit: String, value: Double, low: Double, high: Double) -> Bool {
        guard value.isFinite, low.isFinite, high.isFinite else { return false }
        let halfWidth = (high - low) / 2
        if unit == "proportion" { return halfWidth <= maxProportionHalfWidth }
        return value > 0 && halfWidth <= maxRelativeHalfWidth * value
    }
}

/// A published derived estimate with its interval. `value`, `low` and `high` are NaN when absent
/// (see ``status``; an interval end alone is NaN when unbounded within follow-up).
public struct Estimate: Sendable, Hashable {
    /// The estimate.
    public var value: Double
    /// Interval low.
    public var low: Double
    /// Interval high.
    public var high: Double
    /// Whether there is a value and why not.
    public var status: EstimateStatus
    /// For curve points and medians: the last horizon (days) within the group's follow-up; a
    /// median with status ``EstimateStatus/notReached`` reads "not reached by day `observedUntil`".
    public var observedUntil: Int?
    /// Whether the figure is precise enough to read (``Reliability``); false when absent.
    public var reliable: Bool

    /// Half the interval's width, nil when either end is absent.
    public var halfWidth: Double? { low.isFinite && high.isFinite ? (high - low) / 2 : nil }

    /// An estimate as computed; ``assess(_:value:low:high:followUp:)`` gives the published one.
    public init(value: Double, low: Double, high: Double, status: EstimateStatus = .ok, observedUntil: Int? = nil, reliable: Bool = false) {
        self.value = value
        self.low = low
        self.high = high
        self.status = status
        self.observedUntil = observedUntil
        self.reliable = reliable
    }

    /// The published form of an estimate of `descriptor` for a group with `followUp`: nothing past
    /// the follow-up (curve points past it are absent, a median or an interval end past it is
    /// absent), a status saying why a value is absent, and the reliability flag. Every output
    /// (release JSON, CSVs, dashboards, the CLI, the demo) reads estimates through this one function.
    public static func assess(_ descriptor: EstimateDescriptor, value: Double, low: Double, high: Double, followUp: FollowUp) -> Estimate {
        let absent = Estimate(value: .nan, low: .nan, high: .nan, status: .undefined)
        if let h = descriptor.completeFollowUpHorizon {
            // A share of the cohort at h needs every case followed h days (no censoring).
            guard followUp.coversEveryCase(horizon: h) else {
                var e = absent
                e.status = .beyondFollowUp
                e.observedUntil = followUp.lastCompleteHorizon
                return e
            }
            guard value.isFinite else { return absent }
            return Estimate(
                value: value, low: low, high: high, status: .ok, observedUntil: followUp.lastCompleteHorizon,
                reliable: Reliability.isReliable(unit: descriptor.unit, value: value, low: low, high: high))
        }
        if let h = descriptor.horizon {
            guard followUp.covers(horizon: h) else {
                var e = absent
                e.status = .beyondFollowUp
                e.observedUntil = followUp.lastPublishedHorizon
                return e
            }
        }
        if descriptor.isMedian {
            guard let until = followUp.lastPublishedHorizon else {
                var e = absent
                e.status = .beyondFollowUp
                return e
            }
            let limit = Double(until)
            let v = value.isFinite && value <= limit ? value : Double.nan
            let lo = low.isFinite && low <= limit ? low : Double.nan
            let hi = v.isNaN || !(high.isFinite && high <= limit) ? Double.nan : high
            return Estimate(
                value: v, low: lo, high: hi, status: v.isNaN ? .notReached : .ok, observedUntil: until,
                reliable: Reliability.isReliable(unit: descriptor.unit, value: v, low: lo, high: hi))
        }
        guard value.isFinite else { return absent }
        return Estimate(
            value: value, low: low, high: high, status: .ok,
            observedUntil: descriptor.horizon == nil ? nil : followUp.lastPublishedHorizon,
            reliable: Reliability.isReliable(unit: descriptor.unit, value: value, low: low, high: high))
    }
}

extension Estimate {
    /// A share, curve point or median checked against its denominator, the count estimate it is a
    /// share of (``Derivation/denominatorIndex(_:estimate:)``): when the denominator's noisy value
    /// is 0 or less, or its interval reaches 0 (or is unbounded), the figure is published without a
    /// value, with status ``EstimateStatus/insufficientData`` and never as reliable.
    ///
    /// Why: with a noisy total at or near 0 the share is a ratio of two noise terms. The fit
    /// clips such a share to 0 with an interval of width 0 ("0 % (0 – 0)"), which the width rule
    /// of ``Reliability`` would call reliable; it says nothing about the cases. A figure past the
    /// follow-up keeps its ``EstimateStatus/beyondFollowUp``, the more basic reason. Post-processing
    /// of published numbers only: no budget.
    public static func guarded(_ estimate: Estimate, denominator: Estimate) -> Estimate {
        if estimate.status == .beyondFollowUp { return estimate }
        let enough = denominator.value.isFinite && denominator.value > 0 && denominator.low.isFinite && denominator.low > 0
        if enough { return estimate }
        return Estimate(
            value: .nan, low: .nan, high: .nan, status: .insufficientData, observedUntil: estimate.observedUntil, reliable: false)
    }

    /// Every estimate of one group (in ``Derivation/layout(_:)`` order) checked against its
    /// denominator with ``guarded(_:denominator:)``.
    public static func guarded(_ estimates: [Estimate], kind: TableKind) -> [Estimate] {
        estimates.indices.map { e in
            guard let j = Derivation.denominatorIndex(kind, estimate: e) else { return estimates[e] }
            return guarded(estimates[e], denominator: estimates[j])
        }
    }
}

/// A stored, immutable release.
public struct Release: Sendable, Hashable {
    /// Metadata.
    public var metadata: ReleaseMetadata
    /// Tables in spec order.
    public var tables: [ReleasedTable]

    /// The groups of table `t`'s outermost axis: its pooled cohort groups, or one per cohort.
    public func cohortGroups(table t: Int) -> [CohortGroup] {
        tables[t].info.cohortGroups ?? metadata.cohorts.enumerated().map { CohortGroup(label: $0.element, cohorts: [$0.offset]) }
    }

    /// The breakdown labels of group `g` of table `t`: `[cohort, code of dim 1, code of dim 2]`
    /// (the cohort is a report year such as `2025` in a table pooled by year).
    public func groupLabels(table t: Int, group g: Int) -> [String] {
        let info = tables[t].info
        var rest = g
        var labels: [String] = []
        for d in info.breakdown.reversed() {
            labels.append(d.codes[rest % d.cardinality])
            rest /= d.cardinality
        }
        let cohort = info.cohortGroups.map { $0[rest].label } ?? metadata.cohorts[rest]
        return [cohort] + labels.reversed()
    }

    /// The published count of one cell.
    public func count(table t: Int, group g: Int, cell c: Int) -> NoisyCount {
        let info = tables[t].info
        let y = tables[t].noisyCounts[g * info.cellLabels.count + c]
        var h = info.halfWidth
        if let continual = info.continual {
            // A continual table's cells have their cohort's own variance (normal approximation).
            let sd = continual.cohorts[g / info.groupsPerCohort].cellStandardDeviations[c]
            h = Int64((normalQuantile(1 - (1 - metadata.confidenceLevel) / 2) * sd).rounded(.up))
        }
        return NoisyCount(noisy: y, value: max(0, y), low: max(0, y - h), high: max(0, y + h))
    }

    /// One derived estimate of one group, as published: assessed against the follow-up
    /// (``Estimate/assess(_:value:low:high:followUp:)``), then, for a share, curve point or median,
    /// against its denominator (``Estimate/guarded(_:denominator:)``).
    public func estimate(table t: Int, group g: Int, estimate e: Int) -> Estimate {
        let info = tables[t].info
        let d = tables[t].derived
        let follow = followUp(table: t, groups: [g])
        func assessed(_ e: Int) -> Estimate {
            let i = 3 * (g * info.estimates.count + e)
            return Estimate.assess(info.estimates[e], value: d[i], low: d[i + 1], high: d[i + 2], followUp: follow)
        }
        let estimate = assessed(e)
        guard let j = Derivation.denominatorIndex(info.kind, estimate: e) else { return estimate }
        return Estimate.guarded(estimate, denominator: assessed(j))
    }

    /// The public follow-up span of the union of `groups` of table `t` (their cohorts at the
    /// cutoff; every quarter of a pooled group).
    public func followUp(table t: Int, groups: [Int]) -> FollowUp {
        let perCohort = tables[t].info.groupsPerCohort
        guard let cutoff = Day(iso: metadata.cutoff) else { return FollowUp(spans: []) }
        let axis = cohortGroups(table: t)
        let cohorts = Set(groups.flatMap { axis[$0 / perCohort].cohorts }).sorted()
        return FollowUp(pooling: cohorts.compactMap { Quarter(metadata.cohorts[$0]) }.map { FollowUp(cohort: $0, cutoff: cutoff) })
    }
}

// MARK: - Stored form

/// The immutable stored form: `PLZR` + version 1 + u32 length + metadata JSON, then per table
/// u64 n + n little-endian Int64 noisy counts and u64 m + m little-endian Float64 derived values.
/// Binary because a release of cohort × state × offence holds about a million numbers, which JSON
/// would make slow and large; the JSON views are produced on demand.
enum ReleaseDocument {
    static let magic: [UInt8] = Array("PLZR".utf8) + [1]

    static func encode(_ release: Release) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let meta = Array(try encoder.encode(release.metadata))
        var out = magic
        var total = meta.count + 9
        for t in release.tables { total += 16 + 8 * (t.noisyCounts.count + t.derived.count) }
        out.reserveCapacity(total)
        append(UInt64(meta.count), bytes: 4, to: &out)
        out += meta
        for t in release.tables {
            append(UInt64(t.noisyCounts.count), bytes: 8, to: &out)
            t.noisyCounts.withUnsafeBytes { out += $0 }
            append(UInt64(t.derived.count), bytes: 8, to: &out)
            t.derived.withUnsafeBytes { out += $0 }
        }
        return out
    }

    static func decode(_ bytes: [UInt8]) throws(ReleaseError) -> Release {
        guard bytes.count >= 9, Array(bytes[0..<5]) == magic else { throw .corruptDocument("bad header") }
        var at = 5
        func read(_ n: Int) throws(ReleaseError) -> UInt64 {
            guard at + n <= bytes.count else { throw .corruptDocument("truncated") }
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(bytes[at + i]) << UInt64(8 * i) }
            at += n
            return v
        }
        let metaLength = Int(try read(4))
        guard at + metaLength <= bytes.count else { throw .corruptDocument("truncated metadata") }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let metadata: ReleaseMetadata
        do { metadata = try decoder.decode(ReleaseMetadata.self, from: Data(bytes[at..<(at + metaLength)])) } catch {
            throw .corruptDocument("metadata: \(error)")
        }
        at += metaLength
        var tables: [ReleasedTable] = []
        for info in metadata.tables {
            let n = Int(try read(8))
            guard n <= (bytes.count - at) / 8 else { throw .corruptDocument("truncated counts") }
            let counts = [Int64](unsafeUninitializedCapacity: n) { buf, count in
                if n > 0 { _ = bytes[at..<(at + 8 * n)].withUnsafeBytes { memcpy(buf.baseAddress!, $0.baseAddress!, 8 * n) } }
                count = n
            }
            at += 8 * n
            let m = Int(try read(8))
            guard m <= (bytes.count - at) / 8 else { throw .corruptDocument("truncated estimates") }
            let derived = [Double](unsafeUninitializedCapacity: m) { buf, count in
                if m > 0 { _ = bytes[at..<(at + 8 * m)].withUnsafeBytes { memcpy(buf.baseAddress!, $0.baseAddress!, 8 * m) } }
                count = m
            }
            at += 8 * m
            tables.append(ReleasedTable(info: info, noisyCounts: counts.map { Int64(littleEndian: $0) }, derived: derived))
        }
        return Release(metadata: metadata, tables: tables)
    }

    static func append(_ v: UInt64, bytes n: Int, to out: inout [UInt8]) {
        for i in 0..<n { out.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) }
    }
}

extension Estimate {
    /// A one-line reading of the estimate for people (CLI, demo): the value with its interval, or
    /// why there is none ("not reached by day 365", "beyond follow-up (observed until day 90)");
    /// unreliable figures are marked. `percent` shows proportions as percentages.
    public func text(unit: String, percent: Bool = false) -> String {
        switch status {
        case .insufficientData:
            return "insufficient data (too few cases to compute a share)"
        case .beyondFollowUp:
            return observedUntil.map { "beyond follow-up (observed until day \($0))" } ?? "beyond follow-up"
        case .undefined:
            return "undefined (no cases)"
        case .notReached:
            let from = low.isFinite ? String(format: ", interval from day %.0f", low) : ""
            return "not reached by day \(observedUntil ?? 0)\(from)"
        case .ok:
            break
        }
        func f(_ v: Double) -> String {
            if unit == "proportion" { return percent ? String(format: "%.1f %%", 100 * v) : String(format: "%.3f", v) }
            return String(format: "%.0f", v)
        }
        let lo = low.isFinite ? f(low) : "unbounded"
        let hi = high.isFinite ? f(high) : (observedUntil.map { "beyond day \($0)" } ?? "unbounded")
        return "\(f(value)) (\(lo) – \(hi))" + (reliable ? "" : " [unreliable]")
    }
}
