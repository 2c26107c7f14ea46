import CPlazoPrefetch
import PlazoModel

// MARK: - Image: the whole index, pins included, for a fast restart

/// The image is the index as it is laid out in memory, in a form that can be reloaded in about
/// the time it takes to read it (the service's start-up snapshot, `docs/operations.md`):
///
/// ```
/// "PLZCIMG2"
/// UInt32 agency count, UInt32 0
/// UInt64 case count, UInt64 event count, UInt64 pinned count, UInt64 arena words
/// agency count × UInt32 agency id, in slot order
/// per case, in case-number order:
///     UInt64 pseudonym low, UInt64 pseudonym high, UInt16 words used, UInt16 pin,
///     that many UInt64 words: the case's chunk chain in order, padding included, links left out
/// UInt64 stream entry count s (≤ case count), then s × UInt32: the continual-release stream
///     entries of cases 0 … s − 1 (``StreamEntry``; version 2 of the image)
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
    static let imageMagic: [UInt8] = Array("PLZCIMG2".utf8)
    static let imageHeaderBytes = 48
    static let imageCaseHeaderBytes = 20

    /// The length in bytes of what ``writeImage(to:)`` writes.
    public var imageByteCount: Int {
        var n = Self.imageHeaderBytes + 4 * agencyIDs.count + Self.imageCaseHeaderBytes * records.count
        for r in records { n += 8 * Int((r.meta >> 40) & 0xFFFF) }
        return n + 8 + 4 * streams.count
    }

    /// The image (see above) in memory: ``imageByteCount`` bytes.
    public func image() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(imageByteCount)
        writeImage { out.append(contentsOf: $0) }
        return out
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
        // Version 2: the continual-release stream entries.
        if out.room < 8 { try out.flush(sink) }
        out.put(UInt64(streams.count))
        for raw in streams {
            if out.room < 4 { try out.flush(sink) }
            out.put(raw)
        }
        try out.flush(sink)
    }

    /// Rebuilds an index from an image of `byteCount` bytes, read through `source`, which must
    /// fill each buffer it is given completely (or throw). It is asked for pieces of up to 1 MiB.
    ///
    /// - Throws: ``CaseIndexError/malformedSnapshot(_:)`` when the image is not one
    ///   ``writeImage(to:)`` writes, or whatever `source` throws.
    public init(image source: (UnsafeMutableRawBufferPointer) throws -> Void, byteCount: Int) throws {
        var input = ImageReader(byteCount: byteCount)
        defer { input.deallocate() }
        guard byteCount >= Self.imageHeaderBytes else { throw CaseIndexError.malformedSnapshot("image truncated") }
        try input.ensure(Self.imageHeaderBytes, source)
        guard Array(UnsafeRawBufferPointer(start: input.pointer, count: 8)) == Self.imageMagic else {
            throw CaseIndexError.malformedSnapshot("not a case-index image")
        }
        let agencyCount = Int(input.load(8, UInt32.self))
        let caseCount = input.load(16, UInt64.self)
        let eventTotal = input.load(24, UInt64.self)
        let pinnedTotal = input.load(32, UInt64.self)
        let arenaWords = input.load(40, UInt64.self)
        // Every count against the bytes there are, before anything is allocated from them: a case
        // takes at least its header and one word, an event at least one word, and a case's chunks
        // at most twice its words and a chunk.
        let body = UInt64(byteCount - Self.imageHeaderBytes)
        guard input.load(12, UInt32.self) == 0, agencyCount <= 65_536, UInt64(agencyCount) * 4 <= body,
            caseCount <= UInt64(UInt32.max) - 1, caseCount <= body / UInt64(Self.imageCaseHeaderBytes + 8),
            eventTotal <= body / 8, eventTotal >= caseCount, pinnedTotal <= caseCount,
            arenaWords >= 1, arenaWords <= 1 + caseCount * 4 + (body / 8) * 3
        else { throw CaseIndexError.malformedSnapshot("image counts") }
        input.advance(Self.imageHeaderBytes)

        self.init(expectedCases: Int(caseCount))
        for _ in 0..<agencyCount {
            try input.ensure(4, source)
            let agency = AgencyID(input.load(0, UInt32.self))
            input.advance(4)
            guard agencySlots[agency] == nil else { throw CaseIndexError.malformedSnapshot("agency listed twice") }
            agencySlots[agency] = UInt16(agencyIDs.count)
            agencyIDs.append(agency)
        }

        // The arena at its final size, zeroed (unused chunk words and padding are 0); each case's
        // chunks are laid out one after the other, as `insert` would have chained them. Records
        // and pins are written in place, one per case.
        let rules = WordRules()
        let agencies = UInt64(agencyCount)
        var keys = ImageEventKeys(capacity: Self.maxWordsPerCase + 1)
        defer { keys.deallocate() }
        // Each array gets an eighth more room than it holds (untouched, so not resident): the
        // batches replayed right after a load would otherwise start by reallocating and copying
        // the arrays (about a second at 10 million cases).
        let n = Int(caseCount)
        let headroom = { (count: Int) in count + count / 8 + 64 }
        var arena = [UInt64](unsafeUninitializedCapacity: headroom(Int(arenaWords))) { buffer, initialized in
            buffer.baseAddress!.initialize(repeating: 0, count: Int(arenaWords))
            initialized = Int(arenaWords)
        }
        var next = 1
        var events = 0
        var pinned = 0
        var loadedPins: [UInt16] = []
        let loadedRecords = try [CaseRecord](unsafeUninitializedCapacity: headroom(n)) { records, recordCount in
            loadedPins = try [UInt16](unsafeUninitializedCapacity: headroom(n)) { pins, pinCount in
                try arena.withUnsafeMutableBufferPointer { arena in
                    for c in 0..<n {
                        try input.ensure(Self.imageCaseHeaderBytes, source)
                        let used = Int(input.load(16, UInt16.self))
                        // Padding can take a full case one word past the limit (a void that did not fit).
                        guard used >= 1, used <= Self.maxWordsPerCase + 1 else { throw CaseIndexError.malformedSnapshot("case size") }
                        try input.ensure(Self.imageCaseHeaderBytes + 8 * used, source)
                        let head = next
                        (next, events) = try Self.layOut(
                            input.pointer + Self.imageCaseHeaderBytes, used: used, in: arena, at: head, rules: rules, agencies: agencies,
                            keys: &keys, events: events)
                        (records.baseAddress! + c).initialize(
                            to: CaseRecord(low: input.load(0, UInt64.self), high: input.load(8, UInt64.self), meta: UInt64(head) | UInt64(used) << 40))
                        recordCount = c + 1
                        let pin = input.load(18, UInt16.self)
                        (pins.baseAddress! + c).initialize(to: pin)
                        pinCount = c + 1
                        if pin != 0 { pinned += 1 }
                        input.advance(Self.imageCaseHeaderBytes + 8 * used)
                    }
                }
            }
        }
        try input.ensure(8, source)
        let streamCount = input.load(0, UInt64.self)
        input.advance(8)
        guard streamCount <= caseCount else { throw CaseIndexError.malformedSnapshot("stream entry count") }
        var loadedStreams = [UInt32]()
        loadedStreams.reserveCapacity(Int(streamCount))
        for _ in 0..<Int(streamCount) {
            try input.ensure(4, source)
            loadedStreams.append(input.load(0, UInt32.self))
            input.advance(4)
        }
        guard input.finished else { throw CaseIndexError.malformedSnapshot("trailing bytes") }
        guard events == eventTotal, pinned == pinnedTotal, next == arenaWords else {
            throw CaseIndexError.malformedSnapshot("image totals")
        }
        records = loadedRecords
        pins = loadedPins
        streams = loadedStreams
        words = arena
        eventCount = events
        pinnedCount = pinned
        try buildTable()
    }

    /// Checks one case's words (at `p`: its chain as the image lists it, padding included, links
    /// left out) and lays them out as chunks in `arena` from position `head`.
    ///
    /// - Returns: the arena position after its last chunk, and `events` plus its events.
    @inline(__always)
    private static func layOut(
        _ p: UnsafeRawPointer, used: Int, in arena: UnsafeMutableBufferPointer<UInt64>, at head: Int, rules: WordRules, agencies: UInt64,
        keys: inout ImageEventKeys, events: Int
    ) throws(CaseIndexError) -> (next: Int, events: Int) {
        keys.removeAll()
        var chunkStart = head
        var done = 0
        var chunk = 0
        var eventWords = 0
        while true {
            let size = chunkSize(chunk)
            guard chunkStart + size <= arena.count else { throw .malformedSnapshot("image totals") }
            let fill = min(used - done, size - 1)
            let out = arena.baseAddress! + chunkStart
            UnsafeMutableRawPointer(out).copyMemory(from: p + 8 * done, byteCount: 8 * fill)
            var j = 0
            while j < fill {
                #if _endian(big)
                out[j] = UInt64(littleEndian: out[j])
                #endif
                let w = out[j]
                if w == 0 {
                    j += 1  // padding
                    continue
                }
                guard w >> PackedEvent.agencyShift < agencies, rules.isValid(w) else { throw .malformedSnapshot("invalid event") }
                if w & 0xF == PackedEvent.voidCode {
                    // A void's target never straddles chunks: readers take it from the next word.
                    guard j + 1 < fill else { throw .malformedSnapshot("invalid void target") }
                    #if _endian(big)
                    out[j + 1] = UInt64(littleEndian: out[j + 1])
                    #endif
                    let t = out[j + 1]
                    guard rules.isValidVoidTarget(t) else { throw .malformedSnapshot("invalid void target") }
                    keys.append(w & PackedEvent.contentMask, t)
                    j += 2
                    eventWords += 2
                } else {
                    keys.append(w & PackedEvent.contentMask, 0)
                    j += 1
                    eventWords += 1
                }
            }
            done += fill
            if done == used {
                guard keys.count > 0, eventWords <= maxWordsPerCase else { throw .malformedSnapshot("case size") }
                guard keys.allDistinct() else { throw .malformedSnapshot("event listed twice") }
                return (chunkStart + size, events + keys.count)
            }
            out[size - 1] = UInt64(chunkStart + size)
            chunkStart += size
            chunk += 1
        }
    }

    /// Fills the (empty, presized) hash table from `records`, refusing a pseudonym seen twice.
    ///
    /// The table is far larger than cache: slots are prefetched 16 cases ahead, as in
    /// ``apply(_:from:)``. While it is built, a 32-bit fingerprint of each slot's pseudonym sits
    /// beside it, so that probing past an occupied slot compares fingerprints rather than reading
    /// the occupant's record (another cache miss); records are compared only when they agree.
    private mutating func buildTable() throws {
        precondition(records.count * 4 <= table.count * 3, "the table is sized for the cases")
        let mask = table.count - 1
        let n = records.count
        let far = 16
        let (seed, shift) = (hashSeed, UInt64(64 - tableBits))
        let fingerprints = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: table.count)
        defer { fingerprints.deallocate() }
        try records.withUnsafeBufferPointer { records in
            try table.withUnsafeMutableBufferPointer { table in
                // The hash of ``bucket(_:_:)``: its top bits are the bucket, its low 32 bits the fingerprint.
                @inline(__always) func hash(_ c: Int) -> UInt64 {
                    Self.mix(records[c].low ^ seed.0) ^ Self.mix(records[c].high ^ seed.1)
                }
                for c in 0..<n {
                    if c + far < n {
                        let b = Int(truncatingIfNeeded: hash(c + far) >> shift)
                        plazo_prefetch(table.baseAddress! + b)
                        plazo_prefetch(fingerprints.baseAddress! + b)
                    }
                    let h = hash(c)
                    let fingerprint = UInt32(truncatingIfNeeded: h)
                    var i = Int(truncatingIfNeeded: h >> shift)
                    // Only positions with a table entry have a fingerprint written.
                    while table[i] != 0 {
                        if fingerprints[i] == fingerprint {
                            let o = Int(table[i]) - 1
                            if records[o].low == records[c].low && records[o].high == records[c].high {
                                throw CaseIndexError.malformedSnapshot("pseudonym listed twice")
                            }
                        }
                        i = (i + 1) & mask
                    }
                    table[i] = UInt32(c + 1)
                    fingerprints[i] = fingerprint
                }
            }
        }
    }

    /// Whether `w` is an event word the index could hold: every code in its vocabulary (the
    /// checks of ``decode(word:target:pseudonym:)``), bits 46..47 clear, and an agency slot
    /// below `agencies`.
    static func isValidEventWord(_ w: UInt64, agencies: Int) -> Bool {
        Int(w >> PackedEvent.agencyShift) < agencies && wordRules.isValid(w)
    }

    /// Whether `t` is a void's target word: a non-void event type with a valid detail and a day.
    static func isValidVoidTarget(_ t: UInt64) -> Bool { wordRules.isValidVoidTarget(t) }

    private static let wordRules = WordRules()
}

/// The vocabulary as bit masks, for checking millions of packed words quickly: built from the
/// code enums themselves (so it follows them), with the checks of
/// ``CaseIndex/decode(word:target:pseudonym:)`` (a test holds the two to the same answers).
struct WordRules {
    /// Bit `t`: `EventType(rawValue: t)` exists.
    private var types: UInt64 = 0
    /// Bits `16 t + d`: detail `d` is valid for event type `t` (types 0...15).
    private var details: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var nonVoidTypes: UInt64 = 0
    private var agencyTypes: UInt64 = 0
    private var offences: UInt64 = 0
    private var ages: UInt64 = 0
    private var sexes: UInt64 = 0
    private var states: UInt64 = 0
    private var channels: UInt64 = 0

    init() {
        func mask(_ width: Int, _ valid: (UInt8) -> Bool) -> UInt64 {
            var m: UInt64 = 0
            for v in 0..<(1 << width) where valid(UInt8(v)) { m |= 1 << UInt64(v) }
            return m
        }
        types = mask(4) { EventType(rawValue: $0) != nil }
        nonVoidTypes = mask(4) { EventType(rawValue: $0).map { $0 != .void } ?? false }
        var d: [UInt64] = [0, 0, 0, 0]
        for t in 0..<16 {
            guard let type = EventType(rawValue: UInt8(t)) else { continue }
            d[t / 4] |= mask(4) { type.isValidDetail($0) } << UInt64(16 * (t % 4))
        }
        details = (d[0], d[1], d[2], d[3])
        agencyTypes = mask(4) { AgencyType(rawValue: $0) != nil }
        offences = mask(4) { OffenceCategory(rawValue: $0) != nil }
        ages = mask(3) { AgeBand(rawValue: $0) != nil }
        sexes = mask(2) { VictimSex(rawValue: $0) != nil }
        states = mask(6) { MexicanState(rawValue: $0) != nil }
        channels = mask(3) { ReportChannel(rawValue: $0) != nil }
    }

    @inline(__always)
    private func validDetail(type t: UInt64, detail d: UInt64) -> Bool {
        let group: UInt64
        switch t >> 2 {
        case 0: group = details.0
        case 1: group = details.1
        case 2: group = details.2
        default: group = details.3
        }
        return group >> (16 * (t & 3) + d) & 1 != 0
    }

    /// The content checks of an event word (bits 0..47); the agency slot is the caller's.
    @inline(__always)
    func isValid(_ w: UInt64) -> Bool {
        let t = w & 0xF
        return w & 0x0000_C000_0000_0000 == 0
            && types >> t & 1 != 0
            && validDetail(type: t, detail: (w >> 4) & 0xF)
            && agencyTypes >> ((w >> 24) & 0xF) & 1 != 0
            && offences >> ((w >> 28) & 0xF) & 1 != 0
            && ages >> ((w >> 32) & 0x7) & 1 != 0
            && sexes >> ((w >> 35) & 0x3) & 1 != 0
            && states >> ((w >> 37) & 0x3F) & 1 != 0
            && channels >> ((w >> 43) & 0x7) & 1 != 0
    }

    /// A void's target: a non-void type with a valid detail, a day, nothing above bit 23.
    @inline(__always)
    func isValidVoidTarget(_ t: UInt64) -> Bool {
        t >> 24 == 0 && nonVoidTypes >> (t & 0xF) & 1 != 0 && validDetail(type: t & 0xF, detail: (t >> 4) & 0xF)
    }
}

/// Reads an image a block at a time for ``CaseIndex/init(image:byteCount:)``: `pointer` is the
/// first byte not parsed yet, and ``ensure(_:_:)`` makes `n` bytes available there. A case (at most
/// 20 + 8 × 4097 bytes) always fits in a block.
private struct ImageReader {
    static let blockSize = 1 << 20
    private let block = UnsafeMutableRawBufferPointer.allocate(byteCount: ImageReader.blockSize, alignment: 16)
    private let byteCount: Int
    private var start = 0
    private var end = 0
    private var pulled = 0

    init(byteCount: Int) { self.byteCount = byteCount }

    func deallocate() { block.deallocate() }

    var pointer: UnsafeRawPointer { UnsafeRawPointer(block.baseAddress! + start) }

    /// Whether every byte was read and parsed.
    var finished: Bool { pulled == byteCount && start == end }

    @inline(__always)
    func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
        T(littleEndian: block.loadUnaligned(fromByteOffset: start + offset, as: T.self))
    }

    @inline(__always)
    mutating func advance(_ n: Int) { start += n }

    @inline(__always)
    mutating func ensure(_ n: Int, _ source: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        if end - start >= n { return }
        try refill(n, source)
    }

    private mutating func refill(_ n: Int, _ source: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        let kept = end - start
        if kept > 0 && start > 0 { block.baseAddress!.copyMemory(from: block.baseAddress! + start, byteCount: kept) }
        start = 0
        end = kept
        let more = min(Self.blockSize - end, byteCount - pulled)
        guard kept + more >= n else { throw CaseIndexError.malformedSnapshot("image truncated") }
        try source(UnsafeMutableRawBufferPointer(rebasing: block[end..<(end + more)]))
        pulled += more
        end += more
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

/// The (content, target) keys of one case's events, to refuse an event listed twice: two
/// fixed buffers, reused for every case.
private struct ImageEventKeys {
    private let contents: UnsafeMutableBufferPointer<UInt64>
    private let targets: UnsafeMutableBufferPointer<UInt64>
    private(set) var count = 0

    init(capacity: Int) {
        contents = .allocate(capacity: capacity)
        targets = .allocate(capacity: capacity)
    }

    func deallocate() {
        contents.deallocate()
        targets.deallocate()
    }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func append(_ content: UInt64, _ target: UInt64) {
        contents[count] = content
        targets[count] = target
        count += 1
    }

    /// Cases are small: a pairwise scan, or a sort for large ones.
    func allDistinct() -> Bool {
        let n = count
        if n <= 16 {
            for i in 0..<n {
                var j = i + 1
                while j < n {
                    if contents[i] == contents[j] && targets[i] == targets[j] { return false }
                    j += 1
                }
            }
            return true
        }
        var keys = (0..<n).map { (contents[$0], targets[$0]) }
        keys.sort { $0 < $1 }
        for i in 1..<n where keys[i - 1] == keys[i] { return false }
        return true
    }
}
