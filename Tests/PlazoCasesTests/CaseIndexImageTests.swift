import PlazoModel
import PlazoRandom
import Testing

@testable import PlazoCases

/// The case-index image (`CaseIndex+Image.swift`): what the start-up snapshot stores.
@Suite("case index image")
struct CaseIndexImageTests {
    /// An index with many cases, voids, three agencies, pins and one case grown past a few chunks.
    static func sample(seed: UInt64 = 7) -> CaseIndex {
        var rng = SplitMix64(seed: seed)
        var index = CaseIndex()
        for round in 0..<30 {
            var batch: [CaseEvent] = []
            for _ in 0..<50 {
                let p = CasePseudonym(low: rng.next() % 40, high: 0xCAFE)
                let type = EventType(rawValue: UInt8(1 + rng.next() % 10))!
                let detail: UInt8 = type.detailAttribute == nil ? 0 : UInt8(rng.next() % 3)
                var e = event(type, Int(rng.next() % 300), detail: detail, case: p)
                if type == .reportReceived { e.attributes = grooming13 }
                batch.append(e)
                if rng.next() % 9 == 0 { batch.append(void(e, on: 310, case: p)) }
            }
            index.apply(batch, from: [agency1, agency2, agency3][round % 3])
            if round == 10 { index.pin(asOf: day(200), cohorts: [day(0).quarterNumber, day(100).quarterNumber]) }
        }
        // A large case: chunks chained, some padding where a void did not fit.
        var big: [CaseEvent] = []
        for k in 0..<200 {
            let e = event(.victimInformed, k, detail: 1, case: caseB)
            big.append(e)
            if k % 5 == 0 { big.append(void(e, on: 400 + k, case: caseB)) }
        }
        index.apply(big, from: agency2)
        return index
    }

    static func image(_ index: CaseIndex) -> [UInt8] {
        var out: [UInt8] = []
        index.writeImage { out.append(contentsOf: $0) }
        return out
    }

    static func load(_ bytes: [UInt8]) throws -> CaseIndex {
        var cursor = 0
        return try CaseIndex(
            image: { buffer in
                guard cursor + buffer.count <= bytes.count else { throw CaseIndexError.malformedSnapshot("test source ran out") }
                bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[cursor..<(cursor + buffer.count)])) }
                cursor += buffer.count
            }, byteCount: bytes.count)
    }

    @Test("an image reloads into the same index: events, attributions, pins, and the same answers to later batches")
    func roundTrip() throws {
        var index = Self.sample()
        #expect(index.pinnedCount > 0)
        let bytes = Self.image(index)
        #expect(bytes.count == index.imageByteCount)
        var reloaded = try Self.load(bytes)
        #expect(reloaded.snapshot() == index.snapshot())
        #expect(reloaded.eventCount == index.eventCount && reloaded.caseCount == index.caseCount)
        #expect(reloaded.pinnedCount == index.pinnedCount)
        #expect(reloaded.pinnedCohorts().map { "\($0.pseudonym.low):\($0.cohort)" } == index.pinnedCohorts().map { "\($0.pseudonym.low):\($0.cohort)" })
        #expect(Self.image(reloaded) == bytes)
        // Later batches get the same outcomes, a full case's refusals included (its padding came along).
        var more: [CaseEvent] = (0..<4000).map { k in event(.suspended, 1000 + k, detail: 1, case: caseB) }
        more += (0..<40).map { report(5, case: CasePseudonym(low: UInt64($0), high: 0xCAFE)) }
        more.append(report(1, case: CasePseudonym(low: 99, high: 99)))
        var a: [ApplyOutcome] = []
        var b: [ApplyOutcome] = []
        index.apply(more, from: agency1, outcomes: &a)
        reloaded.apply(more, from: agency1, outcomes: &b)
        #expect(a == b)
        #expect(a.filter { $0 == .caseFull }.count > 100)
        #expect(reloaded.snapshot() == index.snapshot())
        #expect(reloaded.pin(asOf: day(400), cohorts: [day(0).quarterNumber]) == index.pin(asOf: day(400), cohorts: [day(0).quarterNumber]))
        #expect(reloaded.pinnedCohorts().map(\.cohort) == index.pinnedCohorts().map(\.cohort))
    }

    @Test("an empty index has an image too")
    func empty() throws {
        let reloaded = try Self.load(Self.image(CaseIndex()))
        #expect(reloaded.caseCount == 0 && reloaded.eventCount == 0)
    }

    /// Offsets in the image of `sample`'s first case.
    static func firstCase(_ bytes: [UInt8]) -> (header: Int, words: Int, used: Int) {
        let agencies = Int(bytes[8]) | Int(bytes[9]) << 8
        let header = 48 + 4 * agencies
        let used = Int(bytes[header + 16]) | Int(bytes[header + 17]) << 8
        return (header, header + 20, used)
    }

    @Test("a damaged image is refused: event codes, void targets, duplicates, sizes, counts, length")
    func damaged() throws {
        let bytes = Self.image(Self.sample())
        let (caseAt, wordsAt, used) = Self.firstCase(bytes)
        #expect(used >= 2)
        func refused(_ why: String, _ change: (inout [UInt8]) -> Void) {
            var copy = bytes
            change(&copy)
            #expect(throws: CaseIndexError.self, "\(why)") { try Self.load(copy) }
        }
        refused("event type 15") { $0[wordsAt] = $0[wordsAt] | 0x0F }
        refused("state 48") { $0[wordsAt + 5] |= 0x06 }
        refused("agency slot past the list") { $0[wordsAt + 7] = 0x40 }
        refused("bits 46..47 set") { $0[wordsAt + 5] |= 0xC0 }
        refused("the same event twice") { b in
            for i in 0..<8 { b[wordsAt + 8 + i] = b[wordsAt + i] }
        }
        refused("no event in a case") { b in
            for i in 0..<(8 * used) { b[wordsAt + i] = 0 }
        }
        refused("a case of zero words") { $0[caseAt + 16] = 0; $0[caseAt + 17] = 0 }
        refused("a case past the size limit") { $0[caseAt + 16] = 0xFF; $0[caseAt + 17] = 0xFF }
        refused("event count") { $0[24] &+= 1 }
        refused("pinned count") { $0[32] &+= 1 }
        refused("arena words") { $0[40] &+= 1 }
        refused("magic") { $0[0] = 0 }
        refused("truncated") { $0.removeLast() }
        refused("trailing byte") { $0.append(0) }
        refused("the same pseudonym twice") { b in
            // Give the second case the first case's pseudonym.
            let second = wordsAt + 8 * used
            for i in 0..<16 { b[second + i] = b[caseAt + i] }
        }
        // A void whose target would straddle two chunks: a void in a chunk's last word.
        var index = CaseIndex()
        index.apply([event(.referred, 1, detail: 1), event(.referred, 2, detail: 1), void(event(.referred, 1, detail: 1), on: 3)], from: agency1)
        var straddling = Self.image(index)
        let first = Self.firstCase(straddling)
        #expect(first.used == 5)  // two events, a padding word, then the void and its target in the next chunk
        #expect(try Self.load(straddling).snapshot() == index.snapshot())
        // Move the void into the padding word: its target would be the first chunk's link.
        for i in 0..<8 { straddling[first.words + 16 + i] = straddling[first.words + 24 + i] }
        #expect(throws: CaseIndexError.self) { try Self.load(straddling) }
    }

    @Test("image validation accepts exactly the words the snapshot decoder accepts")
    func validationAgreesWithDecode() {
        var rng = SplitMix64(seed: 42)
        let p = CasePseudonym(low: 1, high: 2)
        var accepted = 0
        for k in 0..<200_000 {
            // Random words, and plausible ones (each field small) so that both answers occur.
            var w = rng.next()
            if k % 2 == 0 {
                w &= 0x0000_7FFF_FFFF_FFFF
                w &= ~(UInt64(0xF) << 24) | (UInt64(rng.next() % 10) << 24)
            }
            let t = k % 3 == 0 ? rng.next() & 0xFF_FFFF : rng.next()
            let word = w & PackedEvent.contentMask
            let decodes = CaseIndex.decode(word: word, target: t, pseudonym: p) != nil
            let valid = CaseIndex.isValidEventWord(word, agencies: 1) && (word & 0xF != PackedEvent.voidCode || CaseIndex.isValidVoidTarget(t))
            #expect(decodes == valid, "word \(String(word, radix: 16)) target \(String(t, radix: 16))")
            if valid { accepted += 1 }
        }
        #expect(accepted > 100)
    }
}
