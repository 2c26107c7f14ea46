/// A calendar quarter, `YYYYQn`: the cohort of a case (the quarter of its first report), and the
/// privacy-unit scope of the budget ledger (`PlazoStore`), whose rows store it in that text form.
///
/// One definition and one validator: a quarter is a year in ``years`` and a quarter 1...4;
/// ``init(canonical:)`` reads exactly the stored form and ``init(_:)`` also accepts what people type
/// (`2024q1`, `2024-Q1`), normalising it first. It encodes (Codable) as its canonical text.
public struct Quarter: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The years a quarter may name: 1900–2999 (so the text form always has four digits).
    public static let years: ClosedRange<Int> = 1900...2999

    /// The year, in ``years``.
    public let year: Int
    /// 1...4.
    public let quarter: Int

    /// A quarter, or nil when `year` is outside ``years`` or `quarter` is not 1...4.
    public init?(year: Int, quarter: Int) {
        guard Quarter.years.contains(year), (1...4).contains(quarter) else { return nil }
        self.year = year
        self.quarter = quarter
    }

    /// Reads the canonical form exactly: four digits, `Q`, a digit 1–4 (`2024Q1`), or nil.
    public init?(canonical text: String) {
        let b = Array(text.utf8)
        guard b.count == 6, b[0..<4].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              b[4] == UInt8(ascii: "Q"), b[5] >= UInt8(ascii: "0"), b[5] <= UInt8(ascii: "9")
        else { return nil }
        let year = b[0..<4].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        self.init(year: year, quarter: Int(b[5] - UInt8(ascii: "0")))
    }

    /// Reads what people type: `2024Q1`, also `2024-Q1` and lower case, or nil.
    public init?(_ text: String) {
        self.init(canonical: String(text.uppercased().filter { $0 != "-" }))
    }

    /// `2024Q1`: the canonical form, as the budget ledger stores it and releases name cohorts.
    public var description: String { "\(year)Q\(quarter)" }

    /// The first day of the quarter (nil before 2000).
    public var firstDay: Day? { Day(year: year, month: (quarter - 1) * 3 + 1, day: 1) }

    /// The last day of the quarter (nil before 2000).
    public var lastDay: Day? { next.firstDay.map { $0.adding(days: -1) } }

    /// The following quarter.
    public var next: Quarter { quarter == 4 ? Quarter(year: year + 1, quarter: 1)! : Quarter(year: year, quarter: quarter + 1)! }

    /// Orders by year, then quarter.
    public static func < (a: Quarter, b: Quarter) -> Bool { (a.year, a.quarter) < (b.year, b.quarter) }

    /// Decodes the canonical text form, validating it.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let quarter = Quarter(canonical: text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not a quarter such as 2024Q1"))
        }
        self = quarter
    }

    /// Encodes the canonical text form.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
