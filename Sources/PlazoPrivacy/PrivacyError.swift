/// Everything that can go wrong in the privacy core. Bad parameters are refused with one of these
/// before any randomness is drawn; nothing in this module traps on bad input.
public enum PrivacyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A parameter was outside the range the exact samplers support (`what` names it, `reason` says why).
    case parameterOutOfRange(what: String, reason: String)
    /// A rational could not be parsed from text.
    case invalidRational(String)
    /// Exact integer arithmetic would overflow (`what` names the quantity).
    case arithmeticOverflow(what: String)
    /// A sample's intermediate value did not fit in 64 bits. The parameter limits make this an event of
    /// probability below exp(-2^22) per sample; it is reported rather than silently rounded.
    case sampleOverflow
    /// The randomness source could not be initialised (libsodium unavailable).
    case randomnessUnavailable(String)
    /// Adding noise to a count overflowed `Int64`.
    case countOverflow(index: Int)

    /// A human-readable form.
    public var description: String {
        switch self {
        case let .parameterOutOfRange(what, reason): "\(what) out of range: \(reason)"
        case let .invalidRational(text): "not a rational number: \"\(text)\" (use e.g. 3/2, 1.5 or 2)"
        case let .arithmeticOverflow(what): "exact arithmetic overflow computing \(what)"
        case .sampleOverflow: "sample exceeded 64-bit range (astronomically unlikely; parameters at their limit?)"
        case let .randomnessUnavailable(why): "secure randomness unavailable: \(why)"
        case let .countOverflow(index): "noisy count at index \(index) overflows Int64"
        }
    }
}
