import PlazoModel

/// Errors reading a ``CaseIndex/snapshot()``.
public enum CaseIndexError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes are not a case-index snapshot of a known version, or are cut short.
    case malformedSnapshot(String)

    /// A sentence for logs (never contains case data).
    public var description: String {
        switch self {
        case let .malformedSnapshot(why): "malformed case-index snapshot: \(why)"
        }
    }
}

extension CaseIndex {
    // MARK: Snapshot

    static let magic: [UInt8] = Array("PLZCASE1".utf8)

    /// The whole index as bytes, for a store to persist and reload without replaying batches.
    ///
    /// Layout (little-endian): `PLZCASE1`; `UInt32` agency count and that many `UInt32` agency
    /// ids; `UInt64` case count; per case its 16 pseudonym bytes, a `UInt16` word count and that
    /// many `UInt64` ``PackedEvent`` words (bits 48..63 index the agency list). The snapshot is
    /// canonical: agencies are listed in id order, cases in pseudonym order and each case's words
    /// in content order, so two indexes holding the same set of events give byte-identical
    /// snapshots whatever their arrival order was.
    public func snapshot() -> [UInt8] {
        var out = CaseIndex.magic
        out.reserveCapacity(32 + agencyIDs.count * 4 + records.count * 26 + words.count * 8)
        func put<T: FixedWidthInteger>(_ v: T) {
            withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
        }
        let agencyOrder = agencyIDs.indices.sorted { agencyIDs[$0] < agencyIDs[$1] }
        var rank = [UInt64](repeating: 0, count: agencyIDs.count)
        for (r, slot) in agencyOrder.enumerated() { rank[slot] = UInt64(r) }
        put(UInt32(agencyIDs.count))
        for slot in agencyOrder { put(agencyIDs[slot].rawValue) }
        put(UInt64(records.count))
        var pairs: [(UInt64, UInt64)] = []
        let order = (0..<records.count).sorted { (records[$0].high, records[$0].low) < (records[$1].high, records[$1].low) }
        for c in order {
            put(records[c].low)
            put(records[c].high)
            pairs.removeAll(keepingCapacity: true)
            var used = 0
            forEachEventWord(case: c) { j in
                let w = words[j]
                let remapped = (w & PackedEvent.contentMask) | rank[Int(w >> PackedEvent.agencyShift)] << PackedEvent.agencyShift
                let isVoid = w & 0xF == PackedEvent.voidCode
                pairs.append((remapped, isVoid ? words[j + 1] : 0))
                used += isVoid ? 2 : 1
            }
            put(UInt16(used))
            pairs.sort { ($0.0 & PackedEvent.contentMask, $0.1) < ($1.0 & PackedEvent.contentMask, $1.1) }
            for (w, t) in pairs {
                put(w)
                if w & 0xF == PackedEvent.voidCode { put(t) }
            }
        }
        return out
    }

    /// Rebuilds an index from ``snapshot()`` bytes. Every event is decoded, checked against the
    /// vocabulary and applied again, so a damaged snapshot cannot smuggle in an impossible event.
    public init(snapshot bytes: [UInt8]) throws(CaseIndexError) {
        var cursor = 0
        func take<T: FixedWidthInteger>(_: T.Type) throws(CaseIndexError) -> T {
            let size = MemoryLayout<T>.size
            guard cursor + size <= bytes.count else { throw .malformedSnapshot("truncated") }
            var v: T = 0
            for i in 0..<size { v |= T(bytes[cursor + i]) << (8 * i) }
            cursor += size
            return v
        }
        guard bytes.count >= 8, Array(bytes[0..<8]) == CaseIndex.magic else { throw .malformedSnapshot("unknown header") }
        cursor = 8
        let agencyCount = Int(try take(UInt32.self))
        guard agencyCount <= 65_536, agencyCount * 4 <= bytes.count - cursor else { throw .malformedSnapshot("agency count") }
        var agencies: [AgencyID] = []
        for _ in 0..<agencyCount { agencies.append(AgencyID(try take(UInt32.self))) }
        let caseCount = try take(UInt64.self)
        guard caseCount <= UInt64(bytes.count) / 18 else { throw .malformedSnapshot("case count") }
        self.init(expectedCases: Int(caseCount))
        for _ in 0..<caseCount {
            let pseudonym = CasePseudonym(low: try take(UInt64.self), high: try take(UInt64.self))
            let used = Int(try take(UInt16.self))
            var j = 0
            while j < used {
                let w = try take(UInt64.self)
                var target: UInt64 = 0
                if w & 0xF == PackedEvent.voidCode {
                    guard j + 1 < used else { throw .malformedSnapshot("void without target") }
                    target = try take(UInt64.self)
                    j += 1
                }
                j += 1
                let slot = Int(w >> PackedEvent.agencyShift)
                guard slot < agencies.count, let event = CaseIndex.decode(word: w, target: target, pseudonym: pseudonym) else {
                    throw .malformedSnapshot("invalid event")
                }
                apply(event, from: agencies[slot])
            }
        }
        guard cursor == bytes.count else { throw .malformedSnapshot("trailing bytes") }
    }

    /// Decodes a packed word strictly (every code in its vocabulary), or nil.
    static func decode(word w: UInt64, target t: UInt64, pseudonym: CasePseudonym) -> CaseEvent? {
        guard w & 0x0000_C000_0000_0000 == 0,
            let type = EventType(rawValue: UInt8(w & 0xF)),
            type.isValidDetail(UInt8((w >> 4) & 0xF)),
            let agencyType = AgencyType(rawValue: UInt8((w >> 24) & 0xF)),
            let offence = OffenceCategory(rawValue: UInt8((w >> 28) & 0xF)),
            let age = AgeBand(rawValue: UInt8((w >> 32) & 0x7)),
            let sex = VictimSex(rawValue: UInt8((w >> 35) & 0x3)),
            let state = MexicanState(rawValue: UInt8((w >> 37) & 0x3F)),
            let channel = ReportChannel(rawValue: UInt8((w >> 43) & 0x7))
        else { return nil }
        var reference: EventReference?
        if type == .void {
            guard t >> 24 == 0, let tt = EventType(rawValue: UInt8(t & 0xF)), tt != .void,
                tt.isValidDetail(UInt8((t >> 4) & 0xF))
            else { return nil }
            reference = EventReference(type: tt, detail: UInt8((t >> 4) & 0xF), day: Day(rawValue: UInt16(truncatingIfNeeded: t >> 8)))
        }
        return CaseEvent(
            pseudonym: pseudonym, type: type, detail: UInt8((w >> 4) & 0xF), day: Day(rawValue: UInt16(truncatingIfNeeded: w >> 8)),
            attributes: CaseAttributes(offence: offence, ageBand: age, sex: sex, state: state, channel: channel),
            agencyType: agencyType, target: reference
        )
    }
}
