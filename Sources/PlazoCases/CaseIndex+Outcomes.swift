import PlazoModel

/// What ``CaseIndex/apply(_:from:)`` did with one event.
public enum ApplyOutcome: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// The event was not in the case yet and is now stored.
    case new = 0
    /// The exact event was already stored (from this or another batch or agency); nothing
    /// changed except, possibly, its attribution to a smaller ``AgencyID``.
    case duplicate = 1
    /// The event could not have passed ``CaseEvent/validate(latestDay:)`` (a detail code that
    /// is not in its vocabulary's range, or a void target on a non-void or missing on a void).
    /// Ingest validates first, so this should never happen there.
    case invalid = 2
    /// The case already holds ``CaseIndex/maxWordsPerCase`` words of events: an abuse guard
    /// that keeps the per-case duplicate scan bounded. No real case comes near it.
    case caseFull = 3

    /// Stable machine label.
    public var description: String {
        switch self {
        case .new: "new"
        case .duplicate: "duplicate"
        case .invalid: "invalid"
        case .caseFull: "case_full"
        }
    }
}

/// Counts of ``ApplyOutcome``s for a batch.
public struct ApplyTally: Hashable, Sendable, Codable {
    /// Events stored for the first time.
    public var new = 0
    /// Events already stored.
    public var duplicate = 0
    /// Events refused as ``ApplyOutcome/invalid``.
    public var invalid = 0
    /// Events refused as ``ApplyOutcome/caseFull``.
    public var caseFull = 0

    /// An empty tally.
    public init() {}

    /// Adds one outcome.
    public mutating func add(_ outcome: ApplyOutcome) {
        switch outcome {
        case .new: new += 1
        case .duplicate: duplicate += 1
        case .invalid: invalid += 1
        case .caseFull: caseFull += 1
        }
    }
}

/// Anomaly counts per submitting agency and kind, as of one cutoff.
public struct AnomalyCounts: Hashable, Sendable, Codable {
    private var counts: [AgencyID: [Int]] = [:]

    /// No anomalies.
    public init() {}

    /// Adds one attributed anomaly.
    public mutating func add(_ kind: CaseAnomaly, agency: AgencyID) {
        counts[agency, default: [Int](repeating: 0, count: CaseAnomaly.allCases.count)][Int(kind.rawValue)] += 1
    }

    /// How many anomalies of `kind` are attributed to `agency`.
    public func count(agency: AgencyID, kind: CaseAnomaly) -> Int { counts[agency]?[Int(kind.rawValue)] ?? 0 }

    /// Every anomaly of `kind`, all agencies together.
    public func total(_ kind: CaseAnomaly) -> Int { counts.values.reduce(0) { $0 + $1[Int(kind.rawValue)] } }

    /// Every anomaly attributed to `agency`.
    public func total(agency: AgencyID) -> Int { counts[agency]?.reduce(0, +) ?? 0 }

    /// The agencies with at least one anomaly, in id order.
    public var agencies: [AgencyID] { counts.keys.filter { total(agency: $0) > 0 }.sorted() }
}
