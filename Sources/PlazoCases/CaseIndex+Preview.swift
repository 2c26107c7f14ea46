import PlazoModel

extension CaseIndex {
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
