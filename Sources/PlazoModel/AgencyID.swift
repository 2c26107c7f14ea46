/// The service's identifier of a registered agency (the submitter of a batch): one type from the
/// batch header and receipt (`PlazoWire`) through the registry and batch log (`PlazoStore`) to
/// ingest and case state (`PlazoIngest`, `PlazoCases`). On the wire and in SQLite it is the
/// registry's number (`UInt32`, `agency.id`); ``description`` (`agency#7`) is for logs of case
/// state only: user-facing text prints ``rawValue``.
///
/// Case state keeps, for every distinct event, the *smallest* id among the agencies that
/// submitted it. Taking the minimum (rather than the first submitter) keeps the attribution a
/// function of the set of (event, agency) pairs, so that it does not depend on arrival order;
/// anomalies are attributed to that agency.
public struct AgencyID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
{
    /// The registry's numeric id.
    public let rawValue: UInt32

    /// Wraps a registry id.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Wraps a registry id.
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// A literal registry id (`let police: AgencyID = 1`).
    public init(integerLiteral value: UInt32) { self.rawValue = value }

    /// `agency#7`.
    public var description: String { "agency#\(rawValue)" }

    /// Numeric order.
    public static func < (a: AgencyID, b: AgencyID) -> Bool { a.rawValue < b.rawValue }
}
