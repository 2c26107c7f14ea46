import CPlazoPrefetch
import PlazoModel

// MARK: - Image: the whole index, pins included, for a fast restart

/// The image is the index as it is laid out in memory, in a form that can be reloaded in about
/// the time it takes to read it (the service's start-up snapshot, `docs/operations.md`):
///
/// ```
/// "PLZCIMG1"
/// UInt32 agency count, UInt32 0
/// UInt64 case count, UInt64 event count, UInt64 pinned count, UInt64 arena words
/// agency count × UInt32 agency id, in slot order
/// per case, in case-number order:
///     UInt64 pseudonym low, UInt64 pseudonym high, UInt16 words used, UInt16 pin,
///     that many UInt64 words: the case's chunk chain in order, padding included, links left out
/// ```
/// (little-endian). Unlike ``CaseIndex/snapshot()`` it is not canonical: it keeps the case
/// numbers, the agency slots and each case's padding, so that a reloaded index is the same index,
/// down to which events a full case would refuse next. It also keeps the pins, which are a
/// function of the releases *and* of the case state each release saw, and so cannot be
/// recomputed from a later state.
///
/// Loading checks what ``CaseIndex/init(snapshot:)`` checks, without applying events one by one:
/// every event word and void target against the vocabulary (``isValidEventWord(_:agencies:)``),
/// each case's layout (a void and its target in one chunk, at most ``maxWordsPerCase`` words of
/// events, at least one event), no event twice in a case, no pseudonym twice, and every count.
extension CaseIndex {
    static let imageMagic: [UInt8] = Array("PLZCIMG1".utf8)
    static let imageHeaderBytes = 48
    static let imageCaseHeaderBytes = 20

    /// The length in bytes of what ``writeImage(to:)`` writes.
    public var imageByteCount: Int {
        var n = Self.imageHeaderBytes + 4 * agencyIDs.count + Self.imageCaseHeaderBytes * records.count
        for r in records { n += 8 * Int((r.meta >> 40) & 0xFFFF) }
        return n
    }

    /// Writes the image (see above) to `sink`, in pieces of at most 1 MiB. O(events); reads the
    /// index only, so it may run on a copy of the index off any lock.
    public func writeImage(to sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var out = ImageWriter(capacity: 1 << 20)
        defer { out.deallocate() }
        out.put(Self.imageMagic)
        out.put(UInt32(agencyIDs.count))
        out.put(UInt32(0))
        out.put(UInt64(records.count))
        out.put(UInt64(eventCount))
        out.put(UInt64(pinnedCount))
        out.put(UInt64(words.count))
        for id in agencyIDs { out.put(id.rawValue) }
        try records.withUnsafeBufferPointer { records in
            try words.withUnsafeBufferPointer { words in
                try pins.withUnsafeBufferPointer { pins in
                    for c in 0..<records.count {
                        let used = Int((records[c].meta >> 40) & 0xFFFF)
                        if out.room < Self.imageCaseHeaderBytes + 8 * used { try out.flush(sink) }
                        out.put(records[c].low)
                        out.put(records[c].high)
                        out.put(UInt16(used))
                        out.put(pins[c])
                        // The chain: each chunk's filled words, without its link word.
                        var chunkStart = Int(records[c].meta & 0xFF_FFFF_FFFF)
                        var remaining = used
                        var chunk = 0
                        while remaining > 0 {
                            let capacity = Self.chunkSize(chunk) - 1
                            let fill = min(remaining, capacity)
                            out.put(UnsafeBufferPointer(rebasing: words[chunkStart..<(chunkStart + fill)]))
                            remaining -= fill
                            if remaining > 0 {
                                chunkStart = Int(words[chunkStart + capacity])
                                chunk += 1
                            }
                        }
                    }
                }
            }
        }
        try out.flush(sink)
    }

    /// Rebuilds an index from an image of `byteCount` bytes, read through `source`, which must
    /// fill each buffer it is given completely (or throw).
    ///
    /// - Throws: ``CaseIndexError/malformedSnapshot(_:)`` when the image is not one
    ///   ``writeImage(to:)`` writes, or whatever `source` throws.
    public init(image source: (UnsafeMutableRawBufferPointer) throws -> Void, byteCount: Int) throws {
        var consumed = 0
        func read(_ buffer: UnsafeMutableRawBufferPointer) throws {
            guard consumed + buffer.count <= byteCount else { throw CaseIndexError.malformedSnapshot("image truncated") }
            if buffer.count > 0 { try source(buffer) }
            consumed += buffer.count
        }
        let header = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.imageHeaderBytes, alignment: 8)
        defer { header.deallocate() }
        try read(header)
        guard Array(header[0..<8]) == Self.imageMagic else { throw CaseIndexError.malformedSnapshot("not a case-index image") }
        func field<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T { T(littleEndian: header.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        let agencyCount = Int(field(8, UInt32.self))
        let caseCount = field(16, UInt64.self)
        let eventTotal = field(24, UInt64.self)
        let pinnedTotal = field(32, UInt64.self)
        let arenaWords = field(40, UInt64.self)
        // Every count against the bytes there are, before anything is allocated from them: a case
        // takes at least its header and one word, an event at least one word.
        let body = UInt64(byteCount - Self.imageHeaderBytes)
        guard field(12, UInt32.self) == 0, agencyCount <= 65_536, UInt64(agencyCount) * 4 <= body,
            caseCount <= UInt64(UInt32.max) - 1, caseCount <= body / UInt64(Self.imageCaseHeaderBytes + 8),
            eventTotal <= body / 8, eventTotal >= caseCount, pinnedTotal <= caseCount,
            arenaWords >= 1, arenaWords <= 1 + caseCount * 4 + (body / 8) * 3
        else { throw CaseIndexError.malformedSnapshot("image counts") }

        self.init(expectedCases: Int(caseCount))
        var ids = [UInt32](repeating: 0, count: agencyCount)
        try ids.withUnsafeMutableBytes { try read($0) }
        for id in ids {
            let agency = AgencyID(UInt32(littleEndian: id))
            guard agencySlots[agency] == nil else { throw CaseIndexError.malformedSnapshot("agency listed twice") }
            agencySlots[agency] = UInt16(agencyIDs.count)
            agencyIDs.append(agency)
        }

        words.reserveCapacity(Int(arenaWords))
        let scratch = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: Self.maxWordsPerCase + 1)
        defer { scratch.deallocate() }
        let caseHeader = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.imageCaseHeaderBytes, alignment: 8)
        defer { caseHeader.deallocate() }
        var keys = ImageEventKeys()
        var events = 0
        var pinned = 0
        for _ in 0..<caseCount {
            try read(caseHeader)
            let low = UInt64(littleEndian: caseHeader.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
            let high = UInt64(littleEndian: caseHeader.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            let used = Int(UInt16(littleEndian: caseHeader.loadUnaligned(fromByteOffset: 16, as: UInt16.self)))
            let pin = UInt16(littleEndian: caseHeader.loadUnaligned(fromByteOffset: 18, as: UInt16.self))
            // Padding can take a full case one word past the limit (a void that did not fit).
            guard used >= 1, used <= Self.maxWordsPerCase + 1 else { throw CaseIndexError.malformedSnapshot("case size") }
            let caseWords = UnsafeMutableBufferPointer(rebasing: scratch[0..<used])
            try read(UnsafeMutableRawBufferPointer(caseWords))
            for j in caseWords.indices { caseWords[j] = UInt64(littleEndian: caseWords[j]) }
            events += try Self.validateImageCase(caseWords, agencies: agencyCount, keys: &keys)
            // Lay the chain out again: the same chunks, filled the same way, linked in order.
            let head = words.count
            var chunkStart = head
            var done = 0
            var chunk = 0
            while true {
                let size = Self.chunkSize(chunk)
                let fill = min(used - done, size - 1)
                words.append(contentsOf: caseWords[done..<(done + fill)])
                words.append(contentsOf: repeatElement(0, count: size - fill))
                done += fill
                if done == used { break }
                words[chunkStart + size - 1] = UInt64(words.count)
                chunkStart = words.count
                chunk += 1
            }
            records.append(CaseRecord(low: low, high: high, meta: UInt64(head) | UInt64(used) << 40))
            pins.append(pin)
            if pin != 0 { pinned += 1 }
        }
        guard consumed == byteCount else { throw CaseIndexError.malformedSnapshot("trailing bytes") }
        guard events == eventTotal, pinned == pinnedTotal, words.count == arenaWords else {
            throw CaseIndexError.malformedSnapshot("image totals")
        }
        eventCount = events
        pinnedCount = pinned
        try buildTable()
    }

    /// Fills the (empty, presized) hash table from `records`, refusing a pseudonym seen twice.
    /// The table is far larger than cache, so positions are prefetched ahead, as in
    /// ``apply(_:from:)``: 16 cases ahead the table slot, 8 ahead the record of its occupant.
    private mutating func buildTable() throws {
        precondition(records.count * 4 <= table.count * 3, "the table is sized for the cases")
        let mask = table.count - 1
        let far = 16
        let near = 8
        let n = records.count
        let (seed, shift) = (hashSeed, UInt64(64 - tableBits))
        // The bucket of ``bucket(_:_:)``, without reading `self` while the table is being written.
        func bucket(_ low: UInt64, _ high: UInt64) -> Int {
            Int(truncatingIfNeeded: (Self.mix(low ^ seed.0) ^ Self.mix(high ^ seed.1)) >> shift)
        }
        try records.withUnsafeBufferPointer { records in
            try table.withUnsafeMutableBufferPointer { table in
                for c in 0..<n {
                    if c + far < n {
                        plazo_prefetch(table.baseAddress! + bucket(records[c + far].low, records[c + far].high))
                    }
                    if c + near < n {
                        let v = Int(table[bucket(records[c + near].low, records[c + near].high)])
                        if v != 0 { plazo_prefetch(records.baseAddress! + (v - 1)) }
                    }
                    let (low, high) = (records[c].low, records[c].high)
                    var i = bucket(low, high)
                    while table[i] != 0 {
                        let o = Int(table[i]) - 1
                        if records[o].low == low && records[o].high == high {
                            throw CaseIndexError.malformedSnapshot("pseudonym listed twice")
                        }
                        i = (i + 1) & mask
                    }
                    table[i] = UInt32(c + 1)
                }
            }
        }
    }

    /// Checks one case's words as an image lists them (its chain, padding included, links left
    /// out) and returns its number of events.
    private static func validateImageCase(
        _ w: UnsafeMutableBufferPointer<UInt64>, agencies: Int, keys: inout ImageEventKeys
    ) throws(CaseIndexError) -> Int {
        keys.removeAll()
        var eventWords = 0
        var chunk = 0
        var chunkStart = 0
        while chunkStart < w.count {
            let end = min(chunkStart + chunkSize(chunk) - 1, w.count)
            var j = chunkStart
            while j < end {
                let word = w[j]
                if word == 0 {
                    j += 1  // padding
                    continue
                }
                guard isValidEventWord(word, agencies: agencies) else { throw .malformedSnapshot("invalid event") }
                if word & 0xF == PackedEvent.voidCode {
                    // A void's target never straddles chunks: readers take it from the next word.
                    guard j + 1 < end, isValidVoidTarget(w[j + 1]) else { throw .malformedSnapshot("invalid void target") }
                    keys.append(word & PackedEvent.contentMask, w[j + 1])
                    j += 2
                    eventWords += 2
                } else {
                    keys.append(word & PackedEvent.contentMask, 0)
                    j += 1
                    eventWords += 1
                }
            }
            chunkStart += chunkSize(chunk) - 1
            chunk += 1
        }
        guard keys.count > 0, eventWords <= maxWordsPerCase else { throw .malformedSnapshot("case size") }
        guard keys.allDistinct() else { throw .malformedSnapshot("event listed twice") }
        return keys.count
    }

    /// Whether `w` is an event word the index could hold: every code in its vocabulary (the
    /// checks of ``decode(word:target:pseudonym:)``), bits 46..47 clear, and an agency slot
    /// below `agencies`.
    @inline(__always)
    static func isValidEventWord(_ w: UInt64, agencies: Int) -> Bool {
        guard w & 0x0000_C000_0000_0000 == 0, Int(w >> PackedEvent.agencyShift) < agencies,
            let type = EventType(rawValue: UInt8(w & 0xF)), type.isValidDetail(UInt8((w >> 4) & 0xF)),
            AgencyType(rawValue: UInt8((w >> 24) & 0xF)) != nil,
            OffenceCategory(rawValue: UInt8((w >> 28) & 0xF)) != nil,
            AgeBand(rawValue: UInt8((w >> 32) & 0x7)) != nil,
            VictimSex(rawValue: UInt8((w >> 35) & 0x3)) != nil,
            MexicanState(rawValue: UInt8((w >> 37) & 0x3F)) != nil,
            ReportChannel(rawValue: UInt8((w >> 43) & 0x7)) != nil
        else { return false }
        return true
    }

    /// Whether `t` is a void's target word: a non-void event type with a valid detail and a day.
    @inline(__always)
    static func isValidVoidTarget(_ t: UInt64) -> Bool {
        guard t >> 24 == 0, let type = EventType(rawValue: UInt8(t & 0xF)), type != .void else { return false }
        return type.isValidDetail(UInt8((t >> 4) & 0xF))
    }
}

/// A byte buffer for ``CaseIndex/writeImage(to:)``: fixed capacity, flushed to the sink when full.
private struct ImageWriter {
    let buffer: UnsafeMutableRawBufferPointer
    var count = 0

    init(capacity: Int) {
        buffer = .allocate(byteCount: capacity, alignment: 8)
    }

    func deallocate() { buffer.deallocate() }

    var room: Int { buffer.count - count }

    mutating func flush(_ sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        if count > 0 { try sink(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) }
        count = 0
    }

    @inline(__always)
    mutating func put<T: FixedWidthInteger>(_ v: T) {
        buffer.storeBytes(of: v.littleEndian, toByteOffset: count, as: T.self)
        count += MemoryLayout<T>.size
    }

    mutating func put(_ bytes: [UInt8]) {
        for b in bytes { put(b) }
    }

    @inline(__always)
    mutating func put(_ words: UnsafeBufferPointer<UInt64>) {
        for w in words { put(w) }
    }
}

/// The (content, target) keys of one case's events, to refuse an event listed twice.
private struct ImageEventKeys {
    private var keys: [(UInt64, UInt64)] = []

    var count: Int { keys.count }

    mutating func removeAll() { keys.removeAll(keepingCapacity: true) }

    @inline(__always)
    mutating func append(_ content: UInt64, _ target: UInt64) { keys.append((content, target)) }

    /// Cases are small: a pairwise scan, or a sort for large ones.
    mutating func allDistinct() -> Bool {
        let n = keys.count
        if n <= 16 {
            for i in 0..<n {
                for j in (i + 1)..<n where keys[i] == keys[j] { return false }
            }
            return true
        }
        keys.sort { $0 < $1 }
        for i in 1..<n where keys[i - 1] == keys[i] { return false }
        return true
    }
}
