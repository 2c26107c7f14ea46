/// An exact rational number `numerator / denominator` with 64-bit parts, always in lowest terms
/// and with a positive denominator. Privacy parameters (noise scales, σ², ρ, ε) are rationals so
/// that sampling and accounting never round.
///
/// Arithmetic is checked: an operation whose exact result does not fit throws
/// ``PrivacyError/arithmeticOverflow(what:)`` instead of wrapping or trapping.
public struct Rational: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The numerator (carries the sign).
    public let numerator: Int64
    /// The denominator, always ≥ 1.
    public let denominator: Int64

    /// Builds `numerator / denominator` in lowest terms. Throws if the denominator is zero.
    public init(_ numerator: Int64, _ denominator: Int64 = 1) throws(PrivacyError) {
        if denominator == 0 { throw .parameterOutOfRange(what: "denominator", reason: "must not be zero") }
        try self.init(wide: Int128(numerator), Int128(denominator), what: "rational")
    }

    /// An integer as a rational.
    public init(integer: Int64) {
        numerator = integer
        denominator = 1
    }

    /// Reduces a wide fraction and checks that it fits 64-bit parts.
    init(wide n: Int128, _ d: Int128, what: String) throws(PrivacyError) {
        precondition(d != 0)
        var n = n, d = d
        if d < 0 { n = -n; d = -d }
        let g = Self.gcd(n.magnitude, d.magnitude)
        if g > 1 { n /= Int128(g); d /= Int128(g) }
        guard let n64 = Int64(exactly: n), let d64 = Int64(exactly: d) else { throw .arithmeticOverflow(what: what) }
        numerator = n64
        denominator = d64
    }

    /// Parses `"3/2"`, `"-7"`, `"1.5"` or `"0.001"` exactly (a decimal is read as the fraction it
    /// denotes, never through floating point).
    public init(parsing text: String) throws(PrivacyError) {
        let s = text.trimmingWhitespace()
        if let slash = s.firstIndex(of: "/") {
            guard let n = Int64(s[..<slash]), let d = Int64(s[s.index(after: slash)...]), d != 0 else {
                throw .invalidRational(text)
            }
            try self.init(n, d)
            return
        }
        var digits = Substring(s)
        var negative = false
        if digits.first == "-" || digits.first == "+" {
            negative = digits.first == "-"
            digits = digits.dropFirst()
        }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count <= 2, !digits.isEmpty,
              parts.allSatisfy({ $0.allSatisfy { $0 >= "0" && $0 <= "9" } }),
              !(parts[0].isEmpty && (parts.count == 1 || parts[1].isEmpty))
        else { throw .invalidRational(text) }
        var n: Int128 = 0
        var d: Int128 = 1
        for c in parts[0] + (parts.count == 2 ? parts[1] : "") {
            n = n * 10 + Int128(c.asciiValue! - 48)
            if n > Int128(Int64.max) * 1_000_000_000 { throw .invalidRational(text) }
        }
        if parts.count == 2 {
            for _ in parts[1] {
                d *= 10
                if d > Int128(Int64.max) * 1_000_000_000 { throw .invalidRational(text) }
            }
        }
        do { try self.init(wide: negative ? -n : n, d, what: "parsed rational") } catch { throw .invalidRational(text) }
    }

    /// Zero.
    public static let zero = Rational(integer: 0)
    /// One.
    public static let one = Rational(integer: 1)

    /// True when the value is > 0.
    public var isPositive: Bool { numerator > 0 }

    /// The nearest `Double` (for reporting and accuracy computations only, never for sampling).
    public var doubleValue: Double { Double(numerator) / Double(denominator) }

    /// `"3/2"`, or `"2"` for an integer.
    public var description: String { denominator == 1 ? "\(numerator)" : "\(numerator)/\(denominator)" }

    /// Exact sum.
    public func adding(_ other: Rational) throws(PrivacyError) -> Rational {
        try Rational(
            wide: Int128(numerator) * Int128(other.denominator) + Int128(other.numerator) * Int128(denominator),
            Int128(denominator) * Int128(other.denominator), what: "rational sum")
    }

    /// Exact difference.
    public func subtracting(_ other: Rational) throws(PrivacyError) -> Rational {
        try Rational(
            wide: Int128(numerator) * Int128(other.denominator) - Int128(other.numerator) * Int128(denominator),
            Int128(denominator) * Int128(other.denominator), what: "rational difference")
    }

    /// Exact product.
    public func multiplied(by other: Rational) throws(PrivacyError) -> Rational {
        try Rational(wide: Int128(numerator) * Int128(other.numerator), Int128(denominator) * Int128(other.denominator),
                     what: "rational product")
    }

    /// Exact quotient; throws if `other` is zero.
    public func divided(by other: Rational) throws(PrivacyError) -> Rational {
        if other.numerator == 0 { throw .parameterOutOfRange(what: "divisor", reason: "must not be zero") }
        return try Rational(wide: Int128(numerator) * Int128(other.denominator), Int128(denominator) * Int128(other.numerator),
                            what: "rational quotient")
    }

    /// Orders by value.
    public static func < (lhs: Rational, rhs: Rational) -> Bool {
        Int128(lhs.numerator) * Int128(rhs.denominator) < Int128(rhs.numerator) * Int128(lhs.denominator)
    }

    static func gcd(_ a: UInt128, _ b: UInt128) -> UInt128 {
        var a = a, b = b
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    // Codable as the text form "n/d", so stored JSON stays exact and readable.
    /// Decodes the canonical text form, validating it.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    /// Encodes the canonical text form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
