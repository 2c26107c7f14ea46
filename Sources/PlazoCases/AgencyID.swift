/// The service's identifier of a registered agency (the submitter of a batch).
///
/// Case state keeps, for every distinct event, the *smallest* id among the agencies that
/// submitted it. Taking the minimum (rather than the first submitter) keeps the attribution a
/// function of the set of (event, agency) pairs, so that it does not depend on arrival order;
/// anomalies are attributed to that agency.
public struct AgencyID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The registry's numeric id.
    public let rawValue: UInt32

    /// Wraps a registry id.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Wraps a registry id.
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// `agency#7`.
    public var description: String { "agency#\(rawValue)" }

    /// Numeric order.
    public static func < (a: AgencyID, b: AgencyID) -> Bool { a.rawValue < b.rawValue }
}
