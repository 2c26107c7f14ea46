/// A calendar day (proleptic Gregorian, no time zone), stored as the number of days since
/// 2000-01-01. Plazo records dates at day resolution only: finer times are not needed for the
/// statistics and would make events easier to re-identify.
///
/// On the wire a day is a little-endian `UInt16`, so representable days run from 2000-01-01
/// (0) to 2179-06-06 (65535); the vocabulary further restricts valid event days to
/// 2000-01-01 ... tomorrow (see ``Day/validate(notAfter:)``).
public struct Day: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// Days since 2000-01-01.
    public let rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The first valid day, 2000-01-01.
    public static let epoch = Day(rawValue: 0)

    /// Days from 1970-01-01 to 2000-01-01.
    static let unixOffset = 10_957

    /// The day of a (year, month, day) civil date, or nil when the date does not exist or lies
    /// outside 2000-01-01 ... 2179-06-06.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= Day.daysIn(month: month, year: year) else { return nil }
        let n = Day.daysFromCivil(year: year, month: month, day: day) - Day.unixOffset
        guard n >= 0, n <= Int(UInt16.max) else { return nil }
        self.rawValue = UInt16(n)
    }

    /// The day containing a Unix time in seconds (UTC).
    public init?(unixSeconds: Int64) {
        let days = Int(unixSeconds.dividedFloor(by: 86_400)) - Day.unixOffset
        guard days >= 0, days <= Int(UInt16.max) else { return nil }
        self.rawValue = UInt16(days)
    }

    /// Parses an ISO 8601 calendar date `YYYY-MM-DD` (exactly that form).
    public init?(iso text: some StringProtocol) {
        let u = Array(text.utf8)
        guard u.count == 10, u[4] == 0x2D, u[7] == 0x2D else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var v = 0
            for i in range {
                guard u[i] >= 0x30, u[i] <= 0x39 else { return nil }
                v = v * 10 + Int(u[i] - 0x30)
            }
            return v
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// The civil (year, month, day) of this day.
    public var civil: (year: Int, month: Int, day: Int) {
        Day.civilFromDays(Int(rawValue) + Day.unixOffset)
    }

    /// `YYYY-MM-DD`.
    public var iso: String {
        let (y, m, d) = civil
        return "\(y)-\(m < 10 ? "0" : "")\(m)-\(d < 10 ? "0" : "")\(d)"
    }

    public var description: String { iso }

    /// The calendar quarter this day falls in.
    public var quarter: Quarter {
        let (y, m, _) = civil
        return Quarter(year: y, quarter: (m - 1) / 3 + 1)!
    }

    /// The number of quarters from 2000Q1 to this day's quarter: (year − 2000)·4 + quarter − 1.
    /// A table lookup (one entry per representable day, 128 KiB built on first use): evaluating
    /// millions of cases asks for it once each, and the civil-date arithmetic was a tenth of that.
    @inlinable
    public var quarterNumber: Int { Int(Day.quarterNumbers[Int(rawValue)]) }

    @usableFromInline
    static let quarterNumbers: [UInt16] = (0...Int(UInt16.max)).map { raw in
        let (y, m, _) = Day.civilFromDays(raw + Day.unixOffset)
        return UInt16((y - 2000) * 4 + (m - 1) / 3)
    }

    /// The day `n` days later (clamped to the representable range).
    public func adding(days n: Int) -> Day {
        Day(rawValue: UInt16(clamping: max(0, Int(rawValue) + n)))
    }

    /// Number of days from `self` to `other` (negative when `other` is earlier).
    public func days(to other: Day) -> Int { Int(other.rawValue) - Int(rawValue) }

    public static func < (a: Day, b: Day) -> Bool { a.rawValue < b.rawValue }

    // Howard Hinnant's days_from_civil / civil_from_days (public domain), exact integer arithmetic.

    /// Days from 1970-01-01 to a proleptic Gregorian date (negative before it).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date `z0` days after 1970-01-01 (before it when negative).
    public static func civilFromDays(_ z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension Int64 {
    fileprivate func dividedFloor(by d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}
