import Foundation
import PlazoCases
import PlazoModel
import PlazoRandom
import Testing

/// Throughput and memory of ``CaseIndex`` at scale. Off by default (it needs release mode and a
/// few seconds); run it with
/// `PLAZO_CASES_BENCH=1 swift test -c release --scratch-path .build-cases --filter CaseIndexFootprint`
/// (add `PLAZO_CASES_BENCH_CASES=10000000` for the 10M-case figure).
@Suite("case index footprint", .enabled(if: ProcessInfo.processInfo.environment["PLAZO_CASES_BENCH"] == "1"))
struct CaseIndexFootprintTests {
    /// Resident set size of this process in bytes (Linux `/proc/self/statm`), or 0 elsewhere.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The k-th event of a synthetic case: a plausible path through the vocabulary with about
    /// 5.5 events per case on average (report, referral, investigation, some suspects, charges,
    /// dispositions, suspensions, closures, and victim updates), nil past its end.
    static func syntheticEvent(case c: Int, _ k: Int) -> CaseEvent? {
        var rng = SplitMix64(seed: UInt64(c))
        let pseudonym = CasePseudonym(low: rng.next(), high: rng.next())
        let r = rng.next()
        let base = Int(r % 2000)
        var plan: [(EventType, UInt8, Int)] = [(.reportReceived, 0, 0)]
        if r >> 10 % 10 < 7 { plan.append((.referred, 3, 5)) }
        if r >> 14 % 10 < 8 { plan.append((.investigationOpened, 0, 10)) }
        if r >> 18 % 10 < 4 { plan.append((.suspectIdentified, 0, 60)) }
        if r >> 22 % 10 < 3 { plan.append((.chargeFiled, 0, 120)) }
        if r >> 22 % 10 < 1 { plan.append((.disposed, 1, 400)) }
        if r >> 26 % 10 < 3 { plan.append((.suspended, 1, 90)) }
        if r >> 30 % 10 < 2 { plan.append((.closedWithoutCharge, 1, 200)) }
        for u in 0..<Int(r >> 34 % 4) { plan.append((.victimInformed, 1, 30 + 45 * u)) }
        guard k < plan.count else { return nil }
        let (type, detail, offset) = plan[k]
        let attributes = type == .reportReceived
            ? CaseAttributes(offence: .onlineGrooming, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: UInt8(r >> 40 % 33))!, channel: .platformReferral)
            : .unknown
        return CaseEvent(pseudonym: pseudonym, type: type, detail: detail, day: day(base + offset), attributes: attributes, agencyType: .stateProsecutor)
    }

    @Test("one million cases (or PLAZO_CASES_BENCH_CASES): apply throughput and resident bytes per case")
    func oneMillionCases() {
        let caseCount = ProcessInfo.processInfo.environment["PLAZO_CASES_BENCH_CASES"].flatMap { Int($0) } ?? 1_000_000
        let batchSize = 10_000
        let before = Self.residentBytes()
        var index = CaseIndex()
        var applySeconds = 0.0
        var applied = 0
        var batch: [CaseEvent] = []
        batch.reserveCapacity(batchSize)
        // Phase k submits the k-th event of every case, so consecutive events hit different
        // cases (the cache-unfriendly pattern of real feeds).
        for k in 0..<12 {
            var c = 0
            while c < caseCount {
                batch.removeAll(keepingCapacity: true)
                while c < caseCount, batch.count < batchSize {
                    if let e = Self.syntheticEvent(case: c, k) { batch.append(e) }
                    c += 1
                }
                let start = ContinuousClock.now
                let tally = index.apply(batch, from: AgencyID(UInt32(1 + k % 3)))
                applySeconds += (ContinuousClock.now - start) / .seconds(1)
                applied += tally.new
            }
        }
        let after = Self.residentBytes()
        print("cases \(index.caseCount), distinct events \(index.eventCount) (\(Double(index.eventCount) / Double(caseCount)) per case)")
        print("apply: \(applied) new events in \(applySeconds) s = \(Int(Double(applied) / applySeconds)) events/s")
        print("memory: RSS growth \((after - before) / caseCount) bytes/case; buffers allocated \(index.allocatedBytes / caseCount) bytes/case")

        // Duplicates: the whole feed again.
        var dupSeconds = 0.0
        var duplicates = 0
        for k in 0..<2 {
            var c = 0
            while c < caseCount {
                batch.removeAll(keepingCapacity: true)
                while c < caseCount, batch.count < batchSize {
                    if let e = Self.syntheticEvent(case: c, k) { batch.append(e) }
                    c += 1
                }
                let start = ContinuousClock.now
                duplicates += index.apply(batch, from: AgencyID(9)).duplicate
                dupSeconds += (ContinuousClock.now - start) / .seconds(1)
            }
        }
        print("re-apply: \(duplicates) duplicates at \(Int(Double(duplicates) / dupSeconds)) events/s")

        let start = ContinuousClock.now
        var open = 0
        index.forEachSummary(asOf: day(2500)) { if $0.isOpen { open += 1 } }
        let evalSeconds = (ContinuousClock.now - start) / .seconds(1)
        print("evaluate: \(caseCount) summaries in \(evalSeconds) s = \(Int(Double(caseCount) / evalSeconds)) cases/s (\(open) open)")
        #expect(index.caseCount == caseCount)
    }
}
