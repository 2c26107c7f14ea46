import CPlazoPrefetch
import PlazoModel

/// What ``CaseIndex/apply(_:from:)`` did with one event.
public enum ApplyOutcome: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// The event was not in the case yet and is now stored.
    case new = 0
    /// The exact event was already stored (from this or another batch or agency); nothing
    /// changed except, possibly, its attribution to a smaller ``AgencyID``.
    case duplicate = 1
    /// The event could not have passed ``CaseEvent/validate(latestDay:)`` (a detail code that
    /// is not in its vocabulary's range, or a void target on a non-void or missing on a void).
    /// Ingest validates first, so this should never happen there.
    case invalid = 2
    /// The case already holds ``CaseIndex/maxWordsPerCase`` words of events: an abuse guard
    /// that keeps the per-case duplicate scan bounded. No real case comes near it.
    case caseFull = 3

    /// Stable machine label.
    public var description: String {
        switch self {
        case .new: "new"
        case .duplicate: "duplicate"
        case .invalid: "invalid"
        case .caseFull: "case_full"
        }
    }
}

/// Counts of ``ApplyOutcome``s for a batch.
public struct ApplyTally: Hashable, Sendable, Codable {
    /// Events stored for the first time.
    public var new = 0
    /// Events already stored.
    public var duplicate = 0
    /// Events refused as ``ApplyOutcome/invalid``.
    public var invalid = 0
    /// Events refused as ``ApplyOutcome/caseFull``.
    public var caseFull = 0

    /// An empty tally.
    public init() {}

    /// Adds one outcome.
    public mutating func add(_ outcome: ApplyOutcome) {
        switch outcome {
        case .new: new += 1
        case .duplicate: duplicate += 1
        case .invalid: invalid += 1
        case .caseFull: caseFull += 1
        }
    }
}

/// Anomaly counts per submitting agency and kind, as of one cutoff.
public struct AnomalyCounts: Hashable, Sendable, Codable {
    private var counts: [AgencyID: [Int]] = [:]

    /// No anomalies.
    public init() {}

    /// Adds one attributed anomaly.
    public mutating func add(_ kind: CaseAnomaly, agency: AgencyID) {
        counts[agency, default: [Int](repeating: 0, count: CaseAnomaly.allCases.count)][Int(kind.rawValue)] += 1
    }

    /// How many anomalies of `kind` are attributed to `agency`.
    public func count(agency: AgencyID, kind: CaseAnomaly) -> Int { counts[agency]?[Int(kind.rawValue)] ?? 0 }

    /// Every anomaly of `kind`, all agencies together.
    public func total(_ kind: CaseAnomaly) -> Int { counts.values.reduce(0) { $0 + $1[Int(kind.rawValue)] } }

    /// Every anomaly attributed to `agency`.
    public func total(agency: AgencyID) -> Int { counts[agency]?.reduce(0, +) ?? 0 }

    /// The agencies with at least one anomaly, in id order.
    public var agencies: [AgencyID] { counts.keys.filter { total(agency: $0) > 0 }.sorted() }
}

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
    private var table: [UInt32]
    private var tableBits: Int
    /// Per-index random seed of the bucket hash (see ``bucket(_:_:)``).
    private let hashSeed: (UInt64, UInt64) = {
        var g = SystemRandomNumberGenerator()
        return (g.next(), g.next())
    }()
    // Per case.
    /// Pseudonym and metadata of each case side by side, so that finding a case and reaching
    /// its events costs one cache miss rather than three (the index is far larger than cache).
    private struct CaseRecord {
        var low: UInt64
        var high: UInt64
        /// First chunk's offset (bits 0..39) | words used (40..55), links excluded but padding
        /// included: a void's two words never straddle chunks, and a skipped word stays 0.
        var meta: UInt64
    }

    private var records: [CaseRecord] = []
    /// The arena. Word 0 is never a chunk start, so a link of 0 can mean "none".
    private var words: [UInt64] = [0]
    // Agencies: dense slots, in first-seen order.
    private var agencyIDs: [AgencyID] = []
    private var agencySlots: [AgencyID: UInt16] = [:]
    /// Per case (parallel to `records`), its pinned cohort: 0 = not pinned yet, else the cohort's
    /// quarter number + 1 (`docs/privacy-model.md` §4; the "Pinned cohorts" extension below). Derived
    /// state: not part of ``snapshot()``, re-applied from the stored releases after a restart.
    var pins: [UInt16] = []
    /// Number of pinned cases. Pins are only ever added, so this also versions them.
    public internal(set) var pinnedCount = 0

    /// Number of distinct events stored (voids included).
    public private(set) var eventCount = 0

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
        table.capacity * 4 + records.capacity * MemoryLayout<CaseRecord>.stride + words.capacity * 8 + pins.capacity * 2
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

    private mutating func applyBuffer(_ events: UnsafeBufferPointer<CaseEvent>, from agency: AgencyID) -> ApplyTally {
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

    /// What ``apply(_:from:outcomes:)`` would answer for `events`, without changing the index.
    ///
    /// For ingest that must not change memory before its database transaction commits: preview
    /// the outcomes (for the receipt), commit, then apply. Because state is a function of the
    /// set of events, applying after the commit gives the same state as applying before it.
    /// Duplicates within `events` are recognised too.
    public func preview(_ events: some Sequence<CaseEvent>) -> [ApplyOutcome] {
        // Events of this batch already counted as new, and the words they add to each case, in
        // two small open-addressing tables hashed with this index's random seed (a Set and a
        // Dictionary here spent most of the preview seeding SipHash; the seed keeps a hostile
        // batch from choosing collisions).
        let batch = Array(events)
        var pending = PreviewTable(capacityFor: batch.count, seed: hashSeed)
        var pendingWords = PreviewTable(capacityFor: batch.count, seed: hashSeed)
        var out: [ApplyOutcome] = []
        out.reserveCapacity(batch.count)
        for event in batch {
            guard let packed = PackedEvent(event) else {
                out.append(.invalid)
                continue
            }
            let (low, high) = (event.pseudonym.low, event.pseudonym.high)
            let c = find(low, high).caseNumber
            if let c, stores(packed, inCase: c) {
                out.append(.duplicate)
                continue
            }
            let content = packed.word & PackedEvent.contentMask
            let target = packed.isVoid ? packed.target : 0
            let seen = pending.slot(low, high, content, target)
            if seen.found {
                out.append(.duplicate)
                continue
            }
            // Padding can make apply refuse slightly earlier; the limit is an abuse guard only.
            let need = packed.isVoid ? 2 : 1
            let words = pendingWords.slot(low, high, 0, 0)
            let used = (c.map { Int((records[$0].meta >> 40) & 0xFFFF) } ?? 0) + (words.found ? pendingWords.value(at: words.index) : 0)
            if used + need > CaseIndex.maxWordsPerCase {
                out.append(.caseFull)
                continue
            }
            pending.insert(at: seen.index, low, high, content, target, value: 0)
            if words.found {
                pendingWords.add(need, at: words.index)
            } else {
                pendingWords.insert(at: words.index, low, high, 0, 0, value: need)
            }
            out.append(.new)
        }
        return out
    }

    private func stores(_ packed: PackedEvent, inCase c: Int) -> Bool {
        let content = packed.word & PackedEvent.contentMask
        var found = false
        forEachEventWord(case: c) { j in
            if words[j] & PackedEvent.contentMask == content && (!packed.isVoid || words[j + 1] == packed.target) { found = true }
        }
        return found
    }

    private mutating func agencySlot(_ agency: AgencyID) -> UInt16 {
        if let slot = agencySlots[agency] { return slot }
        precondition(agencyIDs.count <= Int(UInt16.max), "a case index tracks at most 65,536 agencies")
        let slot = UInt16(agencyIDs.count)
        agencyIDs.append(agency)
        agencySlots[agency] = slot
        return slot
    }

    @inline(__always)
    private func bucket(_ low: UInt64, _ high: UInt64) -> Int {
        // Pseudonyms come from agencies: honest ones are keyed BLAKE2b outputs, but a faulty or
        // hostile client could send structured ones chosen to collide (hash flooding turns every
        // insert into a linear probe). Both halves go through a non-linear bijective mixer with a
        // per-index random seed, as Swift's own Dictionary seeds its hashing, so collisions cannot
        // be chosen without knowing the seed. The seed never leaves memory and affects no output.
        Int(truncatingIfNeeded: (Self.mix(low ^ hashSeed.0) ^ Self.mix(high ^ hashSeed.1)) >> UInt64(64 - tableBits))
    }

    /// SplitMix64's finaliser: a bijection of UInt64 with good avalanche.
    @inline(__always)
    fileprivate static func mix(_ x: UInt64) -> UInt64 {
        var z = x &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The case number of a pseudonym, or the empty table position where it would go.
    @inline(__always)
    private func find(_ low: UInt64, _ high: UInt64) -> (position: Int, caseNumber: Int?) {
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

    private mutating func growTable() {
        tableBits += 1
        table = [UInt32](repeating: 0, count: 1 << tableBits)
        let mask = table.count - 1
        for c in 0..<records.count {
            var i = bucket(records[c].low, records[c].high)
            while table[i] != 0 { i = (i + 1) & mask }
            table[i] = UInt32(c + 1)
        }
    }

    private mutating func allocate(chunk i: Int) -> Int {
        let offset = words.count
        words.append(contentsOf: repeatElement(0, count: CaseIndex.chunkSize(i)))
        return offset
    }

    private mutating func insert(low: UInt64, high: UInt64, _ packed: PackedEvent) -> ApplyOutcome {
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
    private func forEachEventWord(case c: Int, _ body: (Int) throws -> Void) rethrows {
        try records.withUnsafeBufferPointer { records in
            try words.withUnsafeBufferPointer { words in try Self.forEachEventWord(case: c, records: records, words: words, body) }
        }
    }

    /// ``forEachEventWord(case:_:)`` over raw buffers, for loops that must not touch `self`'s
    /// arrays (see ``forEachSummary(asOf:part:of:_:)``).
    @inline(__always)
    private static func forEachEventWord(
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

    // MARK: Read

    /// Decodes case `c` into `scratch` (emptied first) for the evaluator.
    private func load(case c: Int, into scratch: inout [EvalEvent]) {
        records.withUnsafeBufferPointer { records in
            words.withUnsafeBufferPointer { words in
                agencyIDs.withUnsafeBufferPointer { agencies in
                    Self.load(case: c, records: records, words: words, agencies: agencies, into: &scratch)
                }
            }
        }
    }

    private func caseNumber(of pseudonym: CasePseudonym) -> Int? { find(pseudonym.low, pseudonym.high).caseNumber }

    /// Whether any event of the case is stored.
    public func contains(_ pseudonym: CasePseudonym) -> Bool { caseNumber(of: pseudonym) != nil }

    /// Evaluates one case as of `cutoff`; nil when no event of the case is stored.
    public func evaluation(of pseudonym: CasePseudonym, asOf cutoff: Day) -> CaseEvaluation? {
        guard let c = caseNumber(of: pseudonym) else { return nil }
        var scratch: [EvalEvent] = []
        load(case: c, into: &scratch)
        var anomalies: [AttributedAnomaly] = []
        let summary = scratch.withUnsafeMutableBufferPointer { b in
            CaseEvaluator.evaluate(b, asOf: cutoff) { anomalies.append(AttributedAnomaly(kind: $0, agency: $1)) }
        }
        anomalies.sort()
        return CaseEvaluation(summary: summary, anomalies: anomalies)
    }

    /// Calls `body` with the summary of every case that has a report on or before `cutoff`, in
    /// an unspecified order (aggregate over them; do not rely on the order). Reuses one scratch
    /// buffer: no allocation per case.
    public func forEachSummary(asOf cutoff: Day, _ body: (CaseSummary) throws -> Void) rethrows {
        try forEachSummary(asOf: cutoff, part: 0, of: 1, body)
    }

    /// Like ``forEachSummary(asOf:_:)``, for the cases of part `part` (0-based) of `parts` about
    /// equal parts of the index. The parts are disjoint and together hold every case, so parts can
    /// be evaluated on several threads at once (an index is a value: reading it concurrently is safe).
    public func forEachSummary(asOf cutoff: Day, part: Int, of parts: Int, _ body: (CaseSummary) throws -> Void) rethrows {
        try forEachNumberedSummary(asOf: cutoff, part: part, of: parts) { _, summary in try body(summary) }
    }

    /// Like ``forEachSummary(asOf:part:of:_:)``, with each case's number (its position in the
    /// index: internal, used to read and set its pin).
    func forEachNumberedSummary(asOf cutoff: Day, part: Int, of parts: Int, _ body: (Int, CaseSummary) throws -> Void) rethrows {
        precondition(parts >= 1 && (0..<parts).contains(part), "part \(part) of \(parts)")
        // One scratch buffer for the whole loop, large enough for any case (an event takes at
        // least one word), written without an array's per-append uniqueness and capacity checks.
        let scratch = UnsafeMutableBufferPointer<EvalEvent>.allocate(capacity: CaseIndex.maxWordsPerCase)
        defer { scratch.deallocate() }
        // Raw buffers for the loop: reading the arrays through `self` retains and releases their
        // shared buffers, and those atomic reference counts, hit by two threads evaluating two
        // parts, made the parallel projection no faster than one thread (measured).
        try records.withUnsafeBufferPointer { records in
            try words.withUnsafeBufferPointer { words in
                try agencyIDs.withUnsafeBufferPointer { agencies in
                    for c in (records.count * part / parts)..<(records.count * (part + 1) / parts) {
                        var n = 0
                        Self.forEachEventWord(case: c, records: records, words: words) { j in
                            precondition(n < scratch.count, "a case holds more events than maxWordsPerCase")
                            (scratch.baseAddress! + n).initialize(to: Self.evalEvent(at: j, words: words, agencies: agencies))
                            n += 1
                        }
                        let summary = CaseEvaluator.evaluate(UnsafeMutableBufferPointer(rebasing: scratch[0..<n]), asOf: cutoff) { _, _ in }
                        if let summary { try body(c, summary) }
                    }
                }
            }
        }
    }

    /// Decodes case `c` into `scratch` over raw buffers (see ``forEachSummary(asOf:part:of:_:)``).
    private static func load(
        case c: Int, records: UnsafeBufferPointer<CaseRecord>, words: UnsafeBufferPointer<UInt64>,
        agencies: UnsafeBufferPointer<AgencyID>, into scratch: inout [EvalEvent]
    ) {
        scratch.removeAll(keepingCapacity: true)
        forEachEventWord(case: c, records: records, words: words) { j in
            scratch.append(evalEvent(at: j, words: words, agencies: agencies))
        }
    }

    /// The evaluator's view of the event word at arena position `j` (a void's target follows it).
    @inline(__always)
    private static func evalEvent(at j: Int, words: UnsafeBufferPointer<UInt64>, agencies: UnsafeBufferPointer<AgencyID>) -> EvalEvent {
        let w = words[j]
        let isVoid = w & 0xF == PackedEvent.voidCode
        return EvalEvent(
            word: w & PackedEvent.contentMask, target: isVoid ? words[j + 1] : 0, agency: agencies[Int(w >> PackedEvent.agencyShift)]
        )
    }

    /// The summaries of every case with a report on or before `cutoff`, in an unspecified order.
    public func summaries(asOf cutoff: Day) -> [CaseSummary] {
        var out: [CaseSummary] = []
        out.reserveCapacity(records.count)
        forEachSummary(asOf: cutoff) { out.append($0) }
        return out
    }

    /// Anomalies of every case as of `cutoff`, counted per attributed agency and kind.
    public func anomalyCounts(asOf cutoff: Day) -> AnomalyCounts {
        var counts = AnomalyCounts()
        var scratch: [EvalEvent] = []
        for c in 0..<records.count {
            load(case: c, into: &scratch)
            _ = scratch.withUnsafeMutableBufferPointer { b in
                CaseEvaluator.evaluate(b, asOf: cutoff) { counts.add($0, agency: $1) }
            }
        }
        return counts
    }

    /// The distinct stored events of a case with their attributed agency, in a canonical order
    /// (by packed content): nil when the case is unknown. For storage and audits; never log it.
    public func events(of pseudonym: CasePseudonym) -> [(event: CaseEvent, agency: AgencyID)]? {
        guard let c = caseNumber(of: pseudonym) else { return nil }
        return storedEvents(case: c)
    }

    private func storedEvents(case c: Int) -> [(event: CaseEvent, agency: AgencyID)] {
        var scratch: [EvalEvent] = []
        load(case: c, into: &scratch)
        scratch.sort { ($0.word, $0.target) < ($1.word, $1.target) }
        let pseudonym = CasePseudonym(low: records[c].low, high: records[c].high)
        return scratch.map { (PackedEvent(word: $0.word, target: $0.target).event(pseudonym: pseudonym), $0.agency) }
    }

    /// Calls `body` with every case's pseudonym and distinct events (see ``events(of:)``), in an
    /// unspecified order.
    public func forEachCase(_ body: (CasePseudonym, [(event: CaseEvent, agency: AgencyID)]) throws -> Void) rethrows {
        for c in 0..<records.count {
            try body(CasePseudonym(low: records[c].low, high: records[c].high), storedEvents(case: c))
        }
    }

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

/// A fixed-capacity open-addressing table of (low, high, word, target) keys with an Int value,
/// for ``CaseIndex/preview(_:)``: at most one entry per event of a batch, so it never grows.
struct PreviewTable {
    private var keys: [(UInt64, UInt64, UInt64, UInt64)]
    private var values: [Int]
    private var occupied: [Bool]
    private let mask: Int
    private let seed: (UInt64, UInt64)

    /// Room for `n` entries at a load of at most 1/2.
    init(capacityFor n: Int, seed: (UInt64, UInt64)) {
        var size = 16
        while size < 2 * n { size <<= 1 }
        keys = Array(repeating: (0, 0, 0, 0), count: size)
        values = Array(repeating: 0, count: size)
        occupied = Array(repeating: false, count: size)
        mask = size - 1
        self.seed = seed
    }

    /// The slot holding the key (`found`), or the empty slot where it would go.
    @inline(__always)
    func slot(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> (index: Int, found: Bool) {
        var h = CaseIndex.mix(a ^ seed.0)
        h = CaseIndex.mix(h ^ b ^ seed.1)
        h = CaseIndex.mix(h ^ c)
        h = CaseIndex.mix(h ^ d)
        var i = Int(truncatingIfNeeded: h) & mask
        while occupied[i] {
            let k = keys[i]
            if k.0 == a && k.1 == b && k.2 == c && k.3 == d { return (i, true) }
            i = (i + 1) & mask
        }
        return (i, false)
    }

    @inline(__always)
    mutating func insert(at i: Int, _ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64, value: Int) {
        keys[i] = (a, b, c, d)
        values[i] = value
        occupied[i] = true
    }

    @inline(__always)
    func value(at i: Int) -> Int { values[i] }

    @inline(__always)
    mutating func add(_ n: Int, at i: Int) { values[i] += n }
}

// MARK: - Pinned cohorts (`docs/privacy-model.md` §4)

/// A case's cohort as a release counts it: its pinned cohort once a release has included it,
/// else the quarter of its current first report.
///
/// Why pins: the ledger composes spends in parallel across cohorts, which is sound only if a case
/// is counted in one cohort for its whole life. A corrected first report (a late report with an
/// earlier date, or a `void` of the first report) would otherwise move the case into a second
/// cohort whose spends also cover it. Pinning fixes the cohort at the first release that
/// includes the case, so every release counts it under that one cohort.
extension CaseIndex {
    /// The cohort number (quarters since 2000Q1) a release counts case `c` in, given its summary.
    @inline(__always)
    func effectiveCohortNumber(case c: Int, summary: CaseSummary) -> Int {
        let p = pins[c]
        return p == 0 ? summary.firstReportDay.quarterNumber : Int(p) - 1
    }

    /// Calls `body` with every case's summary as of `cutoff` (as ``forEachSummary(asOf:part:of:_:)``)
    /// and its pinned cohort number (quarters since 2000Q1), or nil when it is not pinned yet.
    public func forEachPinnedSummary(
        asOf cutoff: Day, part: Int, of parts: Int, _ body: (CaseSummary, _ pinnedCohort: Int?) throws -> Void
    ) rethrows {
        try pins.withUnsafeBufferPointer { pins in
            try forEachNumberedSummary(asOf: cutoff, part: part, of: parts) { c, summary in
                let p = pins[c]
                try body(summary, p == 0 ? nil : Int(p) - 1)
            }
        }
    }

    /// Pins every case that a release with `cutoff` and `cohorts` (cohort numbers, quarters since
    /// 2000Q1) counted and that is not pinned yet, to the cohort the release counted it in: its
    /// current first report's quarter. Returns the number of cases pinned now.
    ///
    /// Must see exactly the state the release's projection saw (the release path holds the
    /// store's writer from projection to pinning, and the start-up replay calls this right after
    /// the release's batch watermark), so that the pins are a function of the stored releases and
    /// the batch log alone.
    @discardableResult
    public mutating func pin(asOf cutoff: Day, cohorts: some Sequence<Int>) -> Int {
        var released = [Bool](repeating: false, count: 1 << 16)
        for q in cohorts where (0..<(1 << 16) - 1).contains(q) { released[q] = true }
        var chosen: [(Int, UInt16)] = []
        pins.withUnsafeBufferPointer { pins in
            forEachNumberedSummary(asOf: cutoff, part: 0, of: 1) { c, summary in
                guard pins[c] == 0 else { return }
                let q = summary.firstReportDay.quarterNumber
                if released[q] { chosen.append((c, UInt16(q + 1))) }
            }
        }
        for (c, p) in chosen { pins[c] = p }
        pinnedCount += chosen.count
        return chosen.count
    }

    /// The pinned cohort number (quarters since 2000Q1) of a case, or nil (unknown or not pinned).
    public func pinnedCohortNumber(of pseudonym: CasePseudonym) -> Int? {
        guard let c = caseNumber(of: pseudonym), pins[c] != 0 else { return nil }
        return Int(pins[c]) - 1
    }

    /// Every pinned case and its cohort number, in pseudonym order: what a restart must restore
    /// identically (tests and audits; O(cases)).
    public func pinnedCohorts() -> [(pseudonym: CasePseudonym, cohort: Int)] {
        var out: [(pseudonym: CasePseudonym, cohort: Int)] = []
        for c in records.indices where pins[c] != 0 {
            out.append((CasePseudonym(low: records[c].low, high: records[c].high), Int(pins[c]) - 1))
        }
        return out.sorted { ($0.pseudonym.high, $0.pseudonym.low) < ($1.pseudonym.high, $1.pseudonym.low) }
    }
}
