import PlazoCases
import PlazoModel
import PlazoRandom

// `plazo-perf hot-index`: the case index's apply throughput when its cases fit in cache (20,000
// cases by default), best of `repeat` runs. Moved here from the test suite, where it only printed
// (docs/case-state.md, "apply, 20k cases").

/// The k-th event of synthetic case `c`: a plausible path through the vocabulary with about 5.5
/// events per case (report, referral, investigation, some suspects, charges, dispositions,
/// suspensions, closures and victim updates), nil past its end. The same plan as
/// `Tests/PlazoCasesTests/CaseIndexFootprintTests.swift`.
func hotIndexEvent(case c: Int, _ k: Int) -> CaseEvent? {
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
        ? CaseAttributes(
            offence: .onlineGrooming, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: UInt8(r >> 40 % 33))!,
            channel: .platformReferral)
        : .unknown
    let day = Day(year: 2024, month: 1, day: 1)!.adding(days: base + offset)
    return CaseEvent(pseudonym: pseudonym, type: type, detail: detail, day: day, attributes: attributes, agencyType: .stateProsecutor)
}

/// Applies every event of `cases` synthetic cases to a fresh index in batches of 10,000, `runs`
/// times; the best throughput in events per second, and the number of events.
func hotIndexThroughput(cases: Int, runs: Int) -> (eventsPerSecond: Double, events: Int) {
    var events: [CaseEvent] = []
    for k in 0..<12 { for c in 0..<cases { if let e = hotIndexEvent(case: c, k) { events.append(e) } } }
    let clock = ContinuousClock()
    var best = 0.0
    for _ in 0..<max(1, runs) {
        var index = CaseIndex()
        let start = clock.now
        var i = 0
        while i < events.count {
            index.apply(events[i..<min(i + 10_000, events.count)], from: AgencyID(1))
            i += 10_000
        }
        best = max(best, Double(events.count) / ((clock.now - start) / .seconds(1)))
    }
    return (best, events.count)
}
