import PlazoModel

/// The content of one event without its pseudonym, packed into one 64-bit word (two for a void).
///
/// ```
/// bits  0..3   event type           (1...11)
/// bits  4..7   detail code          (every v1 detail vocabulary fits in 0...15)
/// bits  8..23  day                  (Day.rawValue)
/// bits 24..27  agency type          (0...8)
/// bits 28..31  offence category     (0...9)
/// bits 32..34  victim age band      (0...4)
/// bits 35..36  victim sex           (0...3)
/// bits 37..42  state                (0...32)
/// bits 43..45  report channel       (0...5)
/// bits 46..47  zero
/// bits 48..63  not content: the index's dense number of the (smallest) submitting agency
/// ```
/// A void's target (type, detail, day) takes bits 0..23 of a second word laid out like the first.
/// Two events are equal exactly when their content bits (and target words) are equal, which is
/// how duplicates are recognised without keeping the 32-byte record.
@usableFromInline
struct PackedEvent: Hashable, Sendable {
    /// Content bits plus, in 48..63, an agency slot (ignored by equality helpers below).
    @usableFromInline var word: UInt64
    /// For a void: its target's type, detail and day in bits 0..23. Zero otherwise.
    @usableFromInline var target: UInt64

    @usableFromInline static let contentMask: UInt64 = (1 << 48) - 1
    @usableFromInline static let agencyShift: UInt64 = 48
    @usableFromInline static let voidCode = UInt64(EventType.void.rawValue)

    @inlinable init(word: UInt64, target: UInt64) {
        self.word = word
        self.target = target
    }

    /// Packs `event`, or returns nil when a field would not fit (a detail code above 15, or a
    /// target present on a non-void / missing on a void): such an event cannot have passed
    /// ``CaseEvent/validate(latestDay:)``.
    @inlinable
    init?(_ event: CaseEvent, agencySlot: UInt16 = 0) {
        guard event.detail < 16 else { return nil }
        let a = event.attributes
        var w = UInt64(event.type.rawValue)
        w |= UInt64(event.detail) << 4
        w |= UInt64(event.day.rawValue) << 8
        w |= UInt64(event.agencyType.rawValue) << 24
        w |= UInt64(a.offence.rawValue) << 28
        w |= UInt64(a.ageBand.rawValue) << 32
        w |= UInt64(a.sex.rawValue) << 35
        w |= UInt64(a.state.rawValue) << 37
        w |= UInt64(a.channel.rawValue) << 43
        w |= UInt64(agencySlot) << 48
        var t: UInt64 = 0
        switch (event.type, event.target) {
        case let (.void, target?):
            guard target.detail < 16 else { return nil }
            t = UInt64(target.type.rawValue) | UInt64(target.detail) << 4 | UInt64(target.day.rawValue) << 8
        case (.void, nil), (_, .some): return nil
        case (_, nil): break
        }
        self.word = w
        self.target = t
    }

    @inlinable var typeCode: UInt8 { UInt8(truncatingIfNeeded: word & 0xF) }
    @inlinable var type: EventType { EventType(rawValue: typeCode)! }
    @inlinable var detail: UInt8 { UInt8(truncatingIfNeeded: (word >> 4) & 0xF) }
    @inlinable var day: Day { Day(rawValue: UInt16(truncatingIfNeeded: word >> 8)) }
    @inlinable var agencyType: AgencyType { AgencyType(rawValue: UInt8(truncatingIfNeeded: (word >> 24) & 0xF)) ?? .unknown }
    @inlinable var isVoid: Bool { word & 0xF == PackedEvent.voidCode }
    @inlinable var agencySlot: UInt16 { UInt16(truncatingIfNeeded: word >> 48) }
    @inlinable var content: UInt64 { word & PackedEvent.contentMask }
    /// The (type, detail, day) key of this event, comparable with a void's ``target``.
    @inlinable var reference: UInt64 { word & 0xFF_FFFF }

    var attributes: CaseAttributes {
        CaseAttributes(
            offence: OffenceCategory(rawValue: UInt8(truncatingIfNeeded: (word >> 28) & 0xF)) ?? .unknown,
            ageBand: AgeBand(rawValue: UInt8(truncatingIfNeeded: (word >> 32) & 0x7)) ?? .unknown,
            sex: VictimSex(rawValue: UInt8(truncatingIfNeeded: (word >> 35) & 0x3)) ?? .unknown,
            state: MexicanState(rawValue: UInt8(truncatingIfNeeded: (word >> 37) & 0x3F)) ?? .unknown,
            channel: ReportChannel(rawValue: UInt8(truncatingIfNeeded: (word >> 43) & 0x7)) ?? .unknown
        )
    }

    /// The event again, with the given pseudonym.
    func event(pseudonym: CasePseudonym) -> CaseEvent {
        var ref: EventReference?
        if isVoid {
            ref = EventReference(
                type: EventType(rawValue: UInt8(truncatingIfNeeded: target & 0xF)) ?? .reportReceived,
                detail: UInt8(truncatingIfNeeded: (target >> 4) & 0xF),
                day: Day(rawValue: UInt16(truncatingIfNeeded: target >> 8))
            )
        }
        return CaseEvent(
            pseudonym: pseudonym, type: type, detail: detail, day: day,
            attributes: attributes, agencyType: agencyType, target: ref
        )
    }
}
