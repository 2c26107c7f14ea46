/// A case pseudonym: 16 bytes of keyed BLAKE2b of the normalised jurisdiction-wide case
/// identifier under the jurisdiction's linkage key (`specs/batch-format.md` §6). The service
/// sees only this; it cannot invert it because it never holds the linkage key.
public struct CasePseudonym: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Length in bytes.
    public static let byteCount = 16
    /// The two 64-bit halves (little-endian reading of bytes 0..<8 and 8..<16).
    public let low: UInt64
    public let high: UInt64

    /// Builds a pseudonym from its halves.
    public init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// Builds a pseudonym from 16 bytes; nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        // Fast path for contiguous bytes (the pseudonymizer's digest): two little-endian loads.
        if let words = bytes.withContiguousStorageIfAvailable({ buffer in
            let raw = UnsafeRawBufferPointer(buffer)
            return (UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }) {
            self.init(low: words.0, high: words.1)
            return
        }
        var lo: UInt64 = 0
        var hi: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            let value = UInt64(b)
            if i < 8 {
                lo |= value << UInt64(8 * i)
            } else {
                hi |= value << UInt64(8 * (i - 8))
            }
        }
        self.init(low: lo, high: hi)
    }

    /// The 16 bytes, in wire order.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            let shift = UInt64(8 * i)
            out[i] = UInt8(truncatingIfNeeded: low >> shift)
            out[i + 8] = UInt8(truncatingIfNeeded: high >> shift)
        }
        return out
    }

    /// Lowercase hex of the 16 bytes. Pseudonyms are case-level data: they may appear in the
    /// operator's tools (`plazo open`) but never in logs, error messages or published output.
    public var hex: String { Hex.encode(bytes) }

    /// Redacted, so that a pseudonym interpolated into a log line by mistake reveals nothing.
    public var description: String { "CasePseudonym(redacted)" }

    public static func < (a: CasePseudonym, b: CasePseudonym) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

/// The coded attributes of a case as reported with an event. On a ``EventType/reportReceived``
/// event they describe the case; other events may carry them too (or leave them unknown).
public struct CaseAttributes: Hashable, Sendable {
    public var offence: OffenceCategory
    public var ageBand: AgeBand
    public var sex: VictimSex
    public var state: MexicanState
    public var channel: ReportChannel

    /// Every attribute unknown.
    public static let unknown = CaseAttributes(offence: .unknown, ageBand: .unknown, sex: .unknown, state: .unknown, channel: .unknown)

    public init(offence: OffenceCategory, ageBand: AgeBand, sex: VictimSex, state: MexicanState, channel: ReportChannel) {
        self.offence = offence
        self.ageBand = ageBand
        self.sex = sex
        self.state = state
        self.channel = channel
    }
}

/// The event that a ``EventType/void`` event retracts: every event of the same case with this
/// type, detail and day.
public struct EventReference: Hashable, Sendable {
    public var type: EventType
    public var detail: UInt8
    public var day: Day

    public init(type: EventType, detail: UInt8, day: Day) {
        self.type = type
        self.detail = detail
        self.day = day
    }
}

/// One de-identified case event: the unit of the vocabulary v1 and the content of one 32-byte
/// wire record (`specs/batch-format.md` §4). There is no free text anywhere.
///
/// Two events are the same event exactly when all their fields are equal; the case state is a
/// function of the *set* of events, so duplicates count once.
public struct CaseEvent: Hashable, Sendable {
    public var pseudonym: CasePseudonym
    public var type: EventType
    /// The detail code; its vocabulary depends on `type` (``EventType/detailAttribute``), 0 when none.
    public var detail: UInt8
    public var day: Day
    public var attributes: CaseAttributes
    /// The type of the agency that recorded the event.
    public var agencyType: AgencyType
    /// For ``EventType/void`` only: the events retracted.
    public var target: EventReference?

    public init(
        pseudonym: CasePseudonym, type: EventType, detail: UInt8 = 0, day: Day,
        attributes: CaseAttributes = .unknown, agencyType: AgencyType, target: EventReference? = nil
    ) {
        self.pseudonym = pseudonym
        self.type = type
        self.detail = detail
        self.day = day
        self.attributes = attributes
        self.agencyType = agencyType
        self.target = target
    }

    /// Checks the rules of the vocabulary that the types alone cannot express: detail code valid
    /// for the type, day not after `latestDay` (tomorrow, by the validator's clock), void
    /// target present exactly on void events and never naming a void.
    public func validate(latestDay: Day) throws(EventError) {
        if !type.isValidDetail(detail) {
            throw .invalidDetail(type: type, detail: detail)
        }
        if day > latestDay { throw .dayInFuture(day) }
        switch (type, target) {
        case (.void, nil): throw .voidWithoutTarget
        case let (.void, target?):
            if target.type == .void { throw .voidTargetsVoid }
            if !target.type.isValidDetail(target.detail) { throw .invalidDetail(type: target.type, detail: target.detail) }
            if target.day > latestDay { throw .dayInFuture(target.day) }
        case (_, .some): throw .targetOnNonVoid
        case (_, nil): break
        }
    }
}

/// Why an event breaks the vocabulary rules. Each case has a stable machine-readable
/// ``code`` (used in receipts and CLI output) and a human sentence.
public enum EventError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidEventType(UInt8)
    case invalidDetail(type: EventType, detail: UInt8)
    case codeOutOfRange(attribute: String, value: Int)
    case dayInFuture(Day)
    case voidWithoutTarget
    case voidTargetsVoid
    case targetOnNonVoid
    case reservedNotZero

    /// The reason, one of the fixed list of ``EventErrorReason`` (the byte in a receipt).
    public var reason: EventErrorReason {
        switch self {
        case .invalidEventType: .invalidEventType
        case .invalidDetail: .invalidDetailCode
        case .codeOutOfRange: .codeOutOfRange
        case .dayInFuture: .dayInFuture
        case .voidWithoutTarget: .voidWithoutTarget
        case .voidTargetsVoid: .voidTargetsVoid
        case .targetOnNonVoid: .targetOnNonVoid
        case .reservedNotZero: .reservedNotZero
        }
    }

    /// The stable machine-readable reason code (``EventErrorReason/code``).
    public var code: String { reason.code }

    public var description: String {
        switch self {
        case let .invalidEventType(v): "\(v) is not a valid event type code"
        case let .invalidDetail(type, detail): "\(detail) is not a valid detail code for a \(type.label) event"
        case let .codeOutOfRange(attribute, value): "\(value) is not a valid \(attribute) code"
        case let .dayInFuture(day): "day \(day.iso) is after tomorrow"
        case .voidWithoutTarget: "a void event must name the event it retracts"
        case .voidTargetsVoid: "a void event cannot retract another void event"
        case .targetOnNonVoid: "only void events may name a target event"
        case .reservedNotZero: "reserved bytes must be zero"
        }
    }
}

/// Why a record is rejected, without the particulars: the one table of record-error reasons. The
/// raw value is the reason byte of a receipt (`specs/batch-format.md` §10, ``RecordReason`` in
/// PlazoWire), ``code`` the stable string of receipts, CLI output and the API, and ``message``
/// the sentence the API shows next to it.
public enum EventErrorReason: UInt8, CaseIterable, Sendable {
    /// The event type is not in the vocabulary.
    case invalidEventType = 1
    /// The detail code is not valid for the event type.
    case invalidDetailCode = 2
    /// An attribute code is not in its list.
    case codeOutOfRange = 3
    /// A day is after tomorrow.
    case dayInFuture = 4
    /// A void event names no target.
    case voidWithoutTarget = 5
    /// A void event targets another void.
    case voidTargetsVoid = 6
    /// A non-void event names a target.
    case targetOnNonVoid = 7
    /// Reserved bytes are not zero.
    case reservedNotZero = 8

    /// The machine-readable code.
    public var code: String {
        switch self {
        case .invalidEventType: "invalid_event_type"
        case .invalidDetailCode: "invalid_detail_code"
        case .codeOutOfRange: "code_out_of_range"
        case .dayInFuture: "day_in_future"
        case .voidWithoutTarget: "void_without_target"
        case .voidTargetsVoid: "void_targets_void"
        case .targetOnNonVoid: "target_on_non_void"
        case .reservedNotZero: "reserved_not_zero"
        }
    }

    /// A human sentence for the reason (without the record's values).
    public var message: String {
        switch self {
        case .invalidEventType: "the event type is not in the vocabulary"
        case .invalidDetailCode: "the detail code is not valid for this event type"
        case .codeOutOfRange: "an attribute code is not in its list"
        case .dayInFuture: "a day is after tomorrow"
        case .voidWithoutTarget: "a void event must name the event it retracts"
        case .voidTargetsVoid: "a void event cannot retract another void event"
        case .targetOnNonVoid: "only void events may name a target event"
        case .reservedNotZero: "reserved bytes must be zero"
        }
    }
}
