import Foundation
import PlazoModel

/// A small open-addressing table from short byte strings (at most 32 bytes) to values: how a
/// field's bytes find their parsed value without making a String or hashing one. Holds at most
/// `limit` entries (emptied when full), so memory stays bounded.
struct ByteCache<Value> {
    struct Key: Equatable {
        var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0
        var length: Int = -1  // −1: an empty slot
    }

    static var maxKeyBytes: Int { 32 }

    private var keys: [Key]
    private var values: [Value?]
    private var mask: Int
    private(set) var count = 0
    let limit: Int

    init(limit: Int = 1 << 16) {
        self.limit = limit
        keys = [Key](repeating: Key(), count: 64)
        values = [Value?](repeating: nil, count: 64)
        mask = 63
    }

    /// The key of `bytes`, or nil when they are longer than ``maxKeyBytes``.
    static func key(_ bytes: UnsafeBufferPointer<UInt8>) -> Key? {
        guard bytes.count <= maxKeyBytes else { return nil }
        var k = Key()
        k.length = bytes.count
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { dst in
            if let base = bytes.baseAddress, bytes.count > 0 {
                dst.baseAddress!.copyMemory(from: base, byteCount: bytes.count)
            }
        }
        (k.w0, k.w1, k.w2, k.w3) = words
        return k
    }

    private static func hash(_ k: Key) -> Int {
        var h = UInt64(truncatingIfNeeded: k.length) &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ k.w0) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 29
        h = (h ^ k.w1) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 32
        h = (h ^ k.w2) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 29
        h = (h ^ k.w3) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    func value(for k: Key) -> Value? {
        var i = Self.hash(k) & mask
        while true {
            let slot = keys[i]
            if slot.length < 0 { return nil }
            if slot == k { return values[i] }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ value: Value, for k: Key) {
        if count >= limit { removeAll() }
        if (count + 1) * 2 > keys.count { grow() }
        var i = Self.hash(k) & mask
        while keys[i].length >= 0 {
            if keys[i] == k { values[i] = value; return }
            i = (i + 1) & mask
        }
        keys[i] = k
        values[i] = value
        count += 1
    }

    private mutating func grow() {
        let old = zip(keys, values).filter { $0.0.length >= 0 }
        let size = keys.count * 2
        keys = [Key](repeating: Key(), count: size)
        values = [Value?](repeating: nil, count: size)
        mask = size - 1
        count = 0
        for (k, v) in old { insert(v!, for: k) }
    }

    mutating func removeAll() {
        keys = [Key](repeating: Key(), count: 64)
        values = [Value?](repeating: nil, count: 64)
        mask = 63
        count = 0
    }
}

extension ExportReader {
    /// The byte-keyed caches of the fast path (``fastEvent(_:encoding:position:latestDay:cache:)``).
    struct FastCache {
        /// Per column (``ExportColumn`` ordinal): bytes → code, or −1 for a value that does not parse.
        var codes = [ByteCache<Int16>](repeating: ByteCache(), count: ExportColumn.allCases.count)
        /// Per date column: bytes → day (nil: not a day).
        var days = [ByteCache<Day?>](repeating: ByteCache(limit: ParseCache.maxDays), count: ExportColumn.allCases.count)
        /// Per event type (raw value): detail bytes → detail code, or −1.
        var details = [ByteCache<Int16>](repeating: ByteCache(), count: 256)
        /// victim_age bytes → age band code, or −1 for a value that is not a valid age.
        var ages = ByteCache<Int16>()
        var lastCaseID: [UInt8] = []
        var lastPseudonym: CasePseudonym?
    }

    /// The event of a row in the common case, read from its bytes with no String per field: every
    /// value is found in a byte-keyed cache (or parsed once, by the same functions as
    /// ``parseRow(_:line:latestDay:dateFormats:cache:)``, and cached).
    ///
    /// Returns nil whenever the row is not plainly valid (any problem, a void row, a value longer
    /// than a cache key): the caller then reads the row the slow way, which finds and reports
    /// exactly what it always did. For a row it does return, the event is the one ``parseRow``
    /// would return. Only for exports read without a mapping (no value maps, no date formats).
    func fastEvent(
        _ record: CSVRowReader.RawRecord, encoding: CSVRowReader.Encoding?, position: [Int], latestDay: Day, cache: inout FastCache
    ) -> CaseEvent? {
        record.bytes.withUnsafeBufferPointer { p -> CaseEvent? in
            func bytes(_ c: ExportColumn) -> UnsafeBufferPointer<UInt8> {
                let i = position[c.ordinal]
                guard i >= 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
                return UnsafeBufferPointer(rebasing: p[record.starts[i]..<record.ends[i]])
            }
            func text(_ c: ExportColumn) -> String { CSVRowReader.string(record, position[c.ordinal], encoding: encoding) }
            /// The code of a column's value, `value` when empty, nil when it does not parse.
            func code<C: VocabularyCode>(_ column: ExportColumn, _ type: C.Type, default value: C) -> C? {
                let b = bytes(column)
                if b.isEmpty { return value }
                guard let key = ByteCache<Int16>.key(b) else { return nil }
                let slot = column.ordinal
                if let cached = cache.codes[slot].value(for: key) {
                    return cached >= 0 ? C(rawValue: UInt8(cached)) : nil
                }
                let parsed = try? C.parse(text(column))
                cache.codes[slot].insert(parsed.map { Int16($0.rawValue) } ?? -1, for: key)
                return parsed
            }

            // Case identifier: pseudonymised when it changes.
            let caseBytes = bytes(.caseID)
            let pseudonym: CasePseudonym
            if let last = cache.lastPseudonym, caseBytes.count == cache.lastCaseID.count,
               caseBytes.isEmpty || cache.lastCaseID.withUnsafeBufferPointer({ memcmp($0.baseAddress!, caseBytes.baseAddress!, caseBytes.count) == 0 }) {
                pseudonym = last
            } else {
                guard let p = try? pseudonymizer.pseudonym(forCaseID: text(.caseID)) else { return nil }
                cache.lastCaseID.removeAll(keepingCapacity: true)
                cache.lastCaseID.append(contentsOf: caseBytes)
                cache.lastPseudonym = p
                pseudonym = p
            }

            guard !bytes(.event).isEmpty, let type = code(.event, EventType.self, default: .reportReceived), type != .void else {
                return nil
            }

            // Date.
            let dateBytes = bytes(.date)
            guard !dateBytes.isEmpty, let dateKey = ByteCache<Day?>.key(dateBytes) else { return nil }
            let dateSlot = ExportColumn.date.ordinal
            let day: Day?
            if let cached = cache.days[dateSlot].value(for: dateKey) {
                day = cached
            } else {
                day = Day(iso: text(.date))
                cache.days[dateSlot].insert(day, for: dateKey)
            }
            guard let eventDay = day, eventDay >= Day(year: 2000, month: 1, day: 1)!, eventDay <= latestDay else { return nil }

            // Detail, in the vocabulary of the event type.
            var detail: UInt8 = 0
            let detailBytes = bytes(.detail)
            if let vocabulary = type.detailAttribute {
                if !detailBytes.isEmpty {
                    guard let key = ByteCache<Int16>.key(detailBytes) else { return nil }
                    let slot = Int(type.rawValue)
                    let cached: Int16
                    if let known = cache.details[slot].value(for: key) {
                        cached = known
                    } else {
                        cached = (try? vocabulary.parseRaw(text(.detail))).map { Int16($0) } ?? -1
                        cache.details[slot].insert(cached, for: key)
                    }
                    guard cached >= 0 else { return nil }
                    detail = UInt8(cached)
                }
            } else if !detailBytes.isEmpty, !(detailBytes.count == 1 && detailBytes[0] == 0x30) {
                return nil
            }

            // Victim age and age band.
            guard var band = code(.victimAgeBand, AgeBand.self, default: .unknown) else { return nil }
            let ageBytes = bytes(.victimAge)
            if !ageBytes.isEmpty {
                guard let key = ByteCache<Int16>.key(ageBytes) else { return nil }
                let cached: Int16
                if let known = cache.ages.value(for: key) {
                    cached = known
                } else {
                    let ageText = text(.victimAge)
                    let whole = ageText.hasSuffix(".0") ? String(ageText.dropLast(2)) : ageText
                    let fromAge = Int(whole).flatMap { try? AgeBand.band(forAge: $0) }
                    cached = fromAge.map { Int16($0.rawValue) } ?? -1
                    cache.ages.insert(cached, for: key)
                }
                guard cached >= 0, let fromAge = AgeBand(rawValue: UInt8(cached)) else { return nil }
                if band != .unknown, band != fromAge { return nil }
                band = fromAge
            }

            guard let offence = code(.offenceCategory, OffenceCategory.self, default: .unknown),
                  let sex = code(.victimSex, VictimSex.self, default: .unknown),
                  let state = code(.state, MexicanState.self, default: .unknown),
                  let channel = code(.reportChannel, ReportChannel.self, default: .unknown),
                  let agencyType = code(.agencyType, AgencyType.self, default: defaultAgencyType)
            else { return nil }
            // Targets belong to void rows only (void rows take the slow way).
            guard bytes(.targetEvent).isEmpty, bytes(.targetDate).isEmpty, bytes(.targetDetail).isEmpty else { return nil }

            let event = CaseEvent(
                pseudonym: pseudonym, type: type, detail: detail, day: eventDay,
                attributes: CaseAttributes(offence: offence, ageBand: band, sex: sex, state: state, channel: channel),
                agencyType: agencyType, target: nil
            )
            guard (try? event.validate(latestDay: latestDay)) != nil else { return nil }
            return event
        }
    }
}
