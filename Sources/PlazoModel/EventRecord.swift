/// The fixed-width 32-byte binary form of a ``CaseEvent`` (`specs/batch-format.md` §4).
///
/// ```
/// offset size field
///  0     16   case pseudonym
/// 16      1   event type            (EventType, 1...11)
/// 17      1   detail code           (vocabulary depends on the event type; 0 when none)
/// 18      2   day                   (UInt16 LE, days since 2000-01-01)
/// 20      1   offence category
/// 21      1   victim age band
/// 22      1   victim sex
/// 23      1   state                 (INEGI 1...32, 0 unknown)
/// 24      1   report channel
/// 25      1   agency type           (of the recording agency)
/// 26      1   target event type     (void only, else 0)
/// 27      1   target detail code    (void only, else 0)
/// 28      2   target day            (void only, UInt16 LE, else 0)
/// 30      2   reserved              (must be 0)
/// ```
public enum EventRecord {
    /// Bytes per record.
    public static let byteCount = 32

    /// Writes `event` into `buffer` (at least 32 bytes) at `offset`.
    @inlinable
    public static func encode(_ event: CaseEvent, into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0) {
        precondition(buffer.count - offset >= byteCount)
        let p = buffer.baseAddress! + offset
        p.storeBytes(of: event.pseudonym.low.littleEndian, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: event.pseudonym.high.littleEndian, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: event.type.rawValue, toByteOffset: 16, as: UInt8.self)
        p.storeBytes(of: event.detail, toByteOffset: 17, as: UInt8.self)
        p.storeBytes(of: event.day.rawValue.littleEndian, toByteOffset: 18, as: UInt16.self)
        p.storeBytes(of: event.attributes.offence.rawValue, toByteOffset: 20, as: UInt8.self)
        p.storeBytes(of: event.attributes.ageBand.rawValue, toByteOffset: 21, as: UInt8.self)
        p.storeBytes(of: event.attributes.sex.rawValue, toByteOffset: 22, as: UInt8.self)
        p.storeBytes(of: event.attributes.state.rawValue, toByteOffset: 23, as: UInt8.self)
        p.storeBytes(of: event.attributes.channel.rawValue, toByteOffset: 24, as: UInt8.self)
        p.storeBytes(of: event.agencyType.rawValue, toByteOffset: 25, as: UInt8.self)
        p.storeBytes(of: event.target?.type.rawValue ?? 0, toByteOffset: 26, as: UInt8.self)
        p.storeBytes(of: event.target?.detail ?? 0, toByteOffset: 27, as: UInt8.self)
        p.storeBytes(of: (event.target?.day.rawValue ?? 0).littleEndian, toByteOffset: 28, as: UInt16.self)
        p.storeBytes(of: UInt16(0), toByteOffset: 30, as: UInt16.self)
    }

    /// The 32 bytes of `event`.
    public static func encode(_ event: CaseEvent) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: byteCount)
        out.withUnsafeMutableBytes { encode(event, into: $0) }
        return out
    }

    /// Decodes and validates the record at `offset` in `buffer`. Checks every code against the
    /// vocabulary, the reserved bytes, the void-target rules and that no day lies after
    /// `latestDay`; throws the first rule broken.
    @inlinable
    public static func decode(
        _ buffer: UnsafeRawBufferPointer, at offset: Int = 0, latestDay: Day
    ) throws(EventError) -> CaseEvent {
        precondition(buffer.count - offset >= byteCount)
        let p = buffer.baseAddress! + offset
        let low = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        let high = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let rawType = p.load(fromByteOffset: 16, as: UInt8.self)
        guard let type = EventType(rawValue: rawType) else { throw .invalidEventType(rawType) }
        let detail = p.load(fromByteOffset: 17, as: UInt8.self)
        let day = Day(rawValue: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 18, as: UInt16.self)))
        let attributes = CaseAttributes(
            offence: try code(p, 20),
            ageBand: try code(p, 21),
            sex: try code(p, 22),
            state: try code(p, 23),
            channel: try code(p, 24)
        )
        let agencyType: AgencyType = try code(p, 25)
        let targetType = p.load(fromByteOffset: 26, as: UInt8.self)
        let targetDetail = p.load(fromByteOffset: 27, as: UInt8.self)
        let targetDay = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 28, as: UInt16.self))
        if p.loadUnaligned(fromByteOffset: 30, as: UInt16.self) != 0 { throw .reservedNotZero }
        var target: EventReference?
        if type == .void {
            guard let t = EventType(rawValue: targetType) else {
                if targetType == 0 { throw .voidWithoutTarget }
                throw .invalidEventType(targetType)
            }
            target = EventReference(type: t, detail: targetDetail, day: Day(rawValue: targetDay))
        } else if targetType != 0 || targetDetail != 0 || targetDay != 0 {
            throw .targetOnNonVoid
        }
        let event = CaseEvent(
            pseudonym: CasePseudonym(low: low, high: high), type: type, detail: detail, day: day,
            attributes: attributes, agencyType: agencyType, target: target
        )
        try event.validate(latestDay: latestDay)
        return event
    }

    /// Decodes and validates a 32-byte array.
    public static func decode(_ bytes: [UInt8], latestDay: Day) throws(EventError) -> CaseEvent {
        precondition(bytes.count == byteCount)
        let result: Result<CaseEvent, EventError> = bytes.withUnsafeBytes { buffer in
            do throws(EventError) { return .success(try decode(buffer, latestDay: latestDay)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    @inlinable
    static func code<C: VocabularyCode>(_ p: UnsafeRawPointer, _ offset: Int) throws(EventError) -> C {
        let raw = p.load(fromByteOffset: offset, as: UInt8.self)
        guard let value = C(rawValue: raw) else { throw .codeOutOfRange(attribute: C.attributeName, value: Int(raw)) }
        return value
    }
}
