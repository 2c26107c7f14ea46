import CPlazoPrefetch
import PlazoModel

/// All cases in memory: an incremental, order-independent index of distinct events per case.
///
/// Storage is built for 10 million cases in well under 150 bytes each:
/// - an open-addressing hash table of `UInt32` case numbers (load at most 3/4);
/// - per case, its pseudonym (16 bytes) and one `UInt64` of metadata (arena offset, words used,
///   capacity class);
/// - one append-only arena of `UInt64` words holding each case's distinct events in
///   ``PackedEvent`` form (8 bytes, 16 for a void), as a chain of chunks of 4, 4, 6, 8, 12, 16,
///   ... words whose last word links to the next chunk. A case never moves, so the arena has
///   no holes: growing cases in an interleaved feed (the normal pattern) would otherwise leave
///   every outgrown chunk behind.
///
/// The state is a set: applying the same events in any order, any number of times, gives the
/// same ``evaluation(of:asOf:)`` for every case. Case numbers and arena layout do depend on
/// arrival order, which is why nothing public exposes them.
///
/// Split by concern, as swift-nio splits `ByteBuffer`: this file holds the storage (hash table,
/// case records, arena) and applying events; `+Read` evaluation and iteration, `+Preview` the
/// outcomes of a batch without applying it, `+Snapshot` the canonical byte form, `+Pins` pinned
/// cohorts, and `+Outcomes` the public outcome and count types.
public struct CaseIndex: Sendable {
    /// The most arena words one case may hold (an event takes 1, a void 2).
    public static let maxWordsPerCase = 4096

    /// The size in words of chunk `i` of a case's chain (the last word of each is the link):
    /// 4, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048,
    /// then 4096. A switch rather than a global array: reading a global array from the hot loops
    /// retains and releases its buffer, and two threads evaluating cases contended on that count.
    @inline(__always)
    static func chunkSize(_ i: Int) -> Int {
        switch i {
        case 0, 1: 4
        case 2: 6
        case 3: 8
        case 4: 12
        case 5: 16
        case 6: 24
        case 7: 32
        case 8: 48
        case 9: 64
        case 10: 96
        case 11: 128
        case 12: 192
        case 13: 256
        case 14: 384
        case 15: 512
        case 16: 768
        case 17: 1024
        case 18: 1536
        case 19: 2048
        default: 4096
        }
    }

    // Hash table: 0 = empty, else case number + 1.
    var table: [UInt32]
    var tableBits: Int
    /// Per-index random seed of the bucket hash (see ``bucket(_:_:)``).
    let hashSeed: (UInt64, UInt64) = {
        var g = SystemRandomNumberGenerator()
        return (g.next(), g.next())
    }()
    // Per case.
    /// Pseudonym and metadata of each case side by side, so that finding a case and reaching
    /// its events costs one cache miss rather than three (the index is far larger than cache).
    struct CaseRecord {
        var low: UInt64
        var high: UInt64
        /// First chunk's offset (bits 0..39) | words used (40..55), links excluded but padding
        /// included: a void's two words never straddle chunks, and a skipped word stays 0.
        var meta: UInt64
    }

    var records: [CaseRecord] = []
    /// The arena. Word 0 is never a chunk start, so a link of 0 can mean "none".
    var words: [UInt64] = [0]
    // Agencies: dense slots, in first-seen order.
    var agencyIDs: [AgencyID] = []
    var agencySlots: [AgencyID: UInt16] = [:]
    /// Per case (parallel to `records`), its pinned cohort: 0 = not pinned yet, else the cohort's
    /// quarter number + 1 (`docs/privacy-model.md` §4; the "Pinned cohorts" extension below). Derived
    /// state: not part of ``snapshot()``, re-applied from the stored releases after a restart.
    var pins: [UInt16] = []
    /// Per case (parallel to `records`, but only as long as the last case that has one), its
    /// continual-release stream entry (``StreamEntry``): derived state like the pins. Empty until
    /// the first continual release, so a service that never makes one spends no memory on it.
    var streams: [UInt32] = []
    /// Number of pinned cases. Pins are only ever added, so this also versions them.
    public internal(set) var pinnedCount = 0

    /// Number of distinct events stored (voids included).
    public internal(set) var eventCount = 0

    /// An empty index. `expectedCases` sizes the tables up front (optional).
    public init(expectedCases: Int = 0) {
        var bits = 10
        while (1 << bits) * 3 / 4 < expectedCases { bits += 1 }
        tableBits = bits
        table = [UInt32](repeating: 0, count: 1 << bits)
        if expectedCases > 0 {
            records.reserveCapacity(expectedCases)
            pins.reserveCapacity(expectedCases)
        }
    }

    /// Number of cases (pseudonyms) with at least one stored event.
    public var caseCount: Int { records.count }

    /// Bytes held by the index's buffers (capacity, not just use): a lower bound of its resident
    /// memory, to compare with the process's RSS.
    public var allocatedBytes: Int {
        table.capacity * 4 + records.capacity * MemoryLayout<CaseRecord>.stride + words.capacity * 8 + pins.capacity * 2 + streams.capacity * 4
            + agencyIDs.capacity * 4 + agencySlots.capacity * 16
    }


    // MARK: Apply

    /// Adds one event submitted by `agency`. Order-independent and idempotent: see
    /// ``ApplyOutcome``. The event should have passed ``CaseEvent/validate(latestDay:)``.
    @discardableResult
    public mutating func apply(_ event: CaseEvent, from agency: AgencyID) -> ApplyOutcome {
        let slot = agencySlot(agency)
        guard let packed = PackedEvent(event, agencySlot: slot) else { return .invalid }
        return insert(low: event.pseudonym.low, high: event.pseudonym.high, packed)
    }

    /// Adds a batch of events submitted by `agency` and counts the outcomes. (The array
    /// overload avoids generic dispatch when called from another module.)
    @discardableResult
    public mutating func apply(_ events: [CaseEvent], from agency: AgencyID) -> ApplyTally {
        events.withUnsafeBufferPointer { applyBuffer($0, from: agency) }
    }

    /// Adds a batch of events submitted by `agency` and counts the outcomes.
    @discardableResult
    public mutating func apply(_ events: some Sequence<CaseEvent>, from agency: AgencyID) -> ApplyTally {
        if let tally = events.withContiguousStorageIfAvailable({ applyBuffer($0, from: agency) }) { return tally }
        return Array(events).withUnsafeBufferPointer { applyBuffer($0, from: agency) }
    }

    mutating func applyBuffer(_ events: UnsafeBufferPointer<CaseEvent>, from agency: AgencyID) -> ApplyTally {
        let slot = agencySlot(agency)
        var tally = ApplyTally()
        // Software pipelining for large indexes. Finding a case and reaching its events is a
        // chain of three dependent cache misses (table slot → case record → arena chunk). So,
        // 24 events ahead, prefetch the table slot; 12 ahead, read that slot (in cache by now) and
        // prefetch the case record; 6 ahead, read the record and prefetch its first arena chunk
        // (distances measured: 24/12/6 beat 12/6/3 and 8/4/2 on one million cases).
        // The misses of later events then overlap with the work on the current one. These are
        // hints (`__builtin_prefetch`): they never fault and change nothing, so a stale position
        // after a table growth or an arena reallocation costs a wasted prefetch at most. (Plain
        // loads in their place, as this loop had before, stalled on each miss: ~70 ns per event.)
        let far = 24
        let mid = 12
        let near = 6
        for i in events.indices {
            if i + far < events.count {
                let p = events[i + far].pseudonym
                let b = bucket(p.low, p.high)
                table.withUnsafeBufferPointer { plazo_prefetch($0.baseAddress! + b) }
            }
            if i + mid < events.count {
                let p = events[i + mid].pseudonym
                let v = Int(table[bucket(p.low, p.high)])
                if v != 0 { records.withUnsafeBufferPointer { plazo_prefetch($0.baseAddress! + (v - 1)) } }
            }
            if i + near < events.count {
                let p = events[i + near].pseudonym
                let v = Int(table[bucket(p.low, p.high)])
                if v != 0 {
                    let head = Int(records[v - 1].meta & 0xFF_FFFF_FFFF)
                    words.withUnsafeBufferPointer { plazo_prefetch($0.baseAddress! + head) }
                }
            }
            let event = events[i]
            guard let packed = PackedEvent(event, agencySlot: slot) else {
                tally.invalid += 1
                continue
            }
            tally.add(insert(low: event.pseudonym.low, high: event.pseudonym.high, packed))
        }
        return tally
    }

    /// Adds a batch of events submitted by `agency`, writing each event's outcome (in order) to
    /// `outcomes` (which is emptied first), e.g. to build a receipt.
    public mutating func apply(_ events: some Sequence<CaseEvent>, from agency: AgencyID, outcomes: inout [ApplyOutcome]) {
        let slot = agencySlot(agency)
        outcomes.removeAll(keepingCapacity: true)
        for event in events {
            guard let packed = PackedEvent(event, agencySlot: slot) else {
                outcomes.append(.invalid)
                continue
            }
            outcomes.append(insert(low: event.pseudonym.low, high: event.pseudonym.high, packed))
        }
    }

    func stores(_ packed: PackedEvent, inCase c: Int) -> Bool {
        let content = packed.word & PackedEvent.contentMask
        var found = false
        forEachEventWord(case: c) { j in
            if words[j] & PackedEvent.contentMask == content && (!packed.isVoid || words[j + 1] == packed.target) { found = true }
        }
        return found
    }

    mutating func agencySlot(_ agency: AgencyID) -> UInt16 {
        if let slot = agencySlots[agency] { return slot }
        precondition(agencyIDs.count <= Int(UInt16.max), "a case index tracks at most 65,536 agencies")
        let slot = UInt16(agencyIDs.count)
        agencyIDs.append(agency)
        agencySlots[agency] = slot
        return slot
    }

    @inline(__always)
    func bucket(_ low: UInt64, _ high: UInt64) -> Int {
        // Pseudonyms come from agencies: honest ones are keyed BLAKE2b outputs, but a faulty or
        // hostile client could send structured ones chosen to collide (hash flooding turns every
        // insert into a linear probe). Both halves go through a non-linear bijective mixer with a
        // per-index random seed, as Swift's own Dictionary seeds its hashing, so collisions cannot
        // be chosen without knowing the seed. The seed never leaves memory and affects no output.
        Int(truncatingIfNeeded: (Self.mix(low ^ hashSeed.0) ^ Self.mix(high ^ hashSeed.1)) >> UInt64(64 - tableBits))
    }

    /// SplitMix64's finaliser: a bijection of UInt64 with good avalanche.
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The case number of a pseudonym, or the empty table position where it would go.
    @inline(__always)
    func find(_ low: UInt64, _ high: UInt64) -> (position: Int, caseNumber: Int?) {
        let mask = table.count - 1
        var i = bucket(low, high)
        while true {
            let v = table[i]
            if v == 0 { return (i, nil) }
            let c = Int(v) - 1
            if records[c].low == low && records[c].high == high { return (i, c) }
            i = (i + 1) & mask
        }
    }

    mutating func growTable() {
        tableBits += 1
        table = [UInt32](repeating: 0, count: 1 << tableBits)
        let mask = table.count - 1
        for c in 0..<records.count {
            var i = bucket(records[c].low, records[c].high)
            while table[i] != 0 { i = (i + 1) & mask }
            table[i] = UInt32(c + 1)
        }
    }

    mutating func allocate(chunk i: Int) -> Int {
        let offset = words.count
        words.append(contentsOf: repeatElement(0, count: CaseIndex.chunkSize(i)))
        return offset
    }

    mutating func insert(low: UInt64, high: UInt64, _ packed: PackedEvent) -> ApplyOutcome {
        let isVoid = packed.isVoid
        let need = isVoid ? 2 : 1
        var (position, found) = find(low, high)
        guard let c = found else {
            if (records.count + 1) * 4 > table.count * 3 {
                growTable()
                position = find(low, high).position
            }
            let offset = allocate(chunk: 0)
            words[offset] = packed.word
            if isVoid { words[offset + 1] = packed.target }
            records.append(CaseRecord(low: low, high: high, meta: UInt64(offset) | UInt64(need) << 40))
            pins.append(0)
            table[position] = UInt32(records.count)
            eventCount += 1
            return .new
        }
        let m = records[c].meta
        let head = Int(m & 0xFF_FFFF_FFFF)
        let used = Int((m >> 40) & 0xFFFF)
        let content = packed.word & PackedEvent.contentMask
        // Duplicate scan: cases are small (a handful of events), so a linear scan of one or two
        // chunks beats any per-case set.
        var chunk = 0
        var chunkStart = head
        var remaining = used
        var fill = 0
        while true {
            let capacity = CaseIndex.chunkSize(chunk) - 1
            fill = min(remaining, capacity)
            var j = chunkStart
            let end = chunkStart + fill
            while j < end {
                let w = words[j]
                if w & PackedEvent.contentMask == content && (!isVoid || words[j + 1] == packed.target) {
                    // Keep the smallest submitting agency id: a semilattice, so attribution
                    // does not depend on arrival order.
                    let existing = Int(w >> PackedEvent.agencyShift)
                    if agencyIDs[Int(packed.agencySlot)] < agencyIDs[existing] {
                        words[j] = packed.word
                    }
                    return .duplicate
                }
                j += (w & 0xF == PackedEvent.voidCode) ? 2 : 1
            }
            remaining -= fill
            if remaining == 0 { break }
            chunkStart = Int(words[chunkStart + capacity])
            chunk += 1
        }
        if used + need > CaseIndex.maxWordsPerCase { return .caseFull }
        let capacity = CaseIndex.chunkSize(chunk) - 1
        var newUsed = used + need
        var at = chunkStart + fill
        if fill + need > capacity {
            // Pad what is left of the chunk (its words are still 0) and link a new one.
            newUsed += capacity - fill
            let next = allocate(chunk: chunk + 1)
            words[chunkStart + capacity] = UInt64(next)
            at = next
        }
        words[at] = packed.word
        if isVoid { words[at + 1] = packed.target }
        records[c].meta = UInt64(head) | UInt64(newUsed) << 40
        eventCount += 1
        return .new
    }

    /// Calls `body` with the arena position of every stored event word of case `c` (a void's
    /// target is at the next position).
    @inline(__always)
    func forEachEventWord(case c: Int, _ body: (Int) throws -> Void) rethrows {
        try records.withUnsafeBufferPointer { records in
            try words.withUnsafeBufferPointer { words in try Self.forEachEventWord(case: c, records: records, words: words, body) }
        }
    }

    /// ``forEachEventWord(case:_:)`` over raw buffers, for loops that must not touch `self`'s
    /// arrays (see ``forEachSummary(asOf:part:of:_:)``).
    @inline(__always)
    static func forEachEventWord(
        case c: Int, records: UnsafeBufferPointer<CaseRecord>, words: UnsafeBufferPointer<UInt64>, _ body: (Int) throws -> Void
    ) rethrows {
        let m = records[c].meta
        var chunkStart = Int(m & 0xFF_FFFF_FFFF)
        var remaining = Int((m >> 40) & 0xFFFF)
        var chunk = 0
        while remaining > 0 {
            let capacity = CaseIndex.chunkSize(chunk) - 1
            let fill = min(remaining, capacity)
            var j = chunkStart
            while j < chunkStart + fill {
                let w = words[j]
                if w == 0 {
                    j += 1  // padding
                    continue
                }
                try body(j)
                j += (w & 0xF == PackedEvent.voidCode) ? 2 : 1
            }
            remaining -= fill
            if remaining > 0 {
                chunkStart = Int(words[chunkStart + capacity])
                chunk += 1
            }
        }
    }
}
