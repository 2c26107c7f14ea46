import Foundation
import PlazoModel
import PlazoRandom

/// A synthetic agency of the jurisdiction.
public struct SynthAgency: Sendable, Hashable, Codable {
    /// Display name (registered with the service).
    public let name: String
    /// Agency type code label.
    public let type: String
    /// The export's file name.
    public let file: String
}

/// Settings of a synthetic dataset. Every parameter is documented in `docs/synthetic-data.md`.
public struct SynthConfiguration: Sendable {
    /// Number of cases (reports).
    public var cases: Int
    /// The generator's seed: the same seed gives the same files, byte for byte.
    public var seed: UInt64
    /// First report day.
    public var firstDay: Day
    /// Data cutoff: events after it are not exported (cases still open are censored there).
    public var cutoff: Day
    /// Share of rows made dirty (bad dates, unknown labels, out-of-scope ages, empty ids).
    public var dirtyRowRate: Double

    public init(
        cases: Int, seed: UInt64 = 2026,
        firstDay: Day = Day(year: 2022, month: 1, day: 1)!, cutoff: Day = Day(year: 2025, month: 12, day: 31)!,
        dirtyRowRate: Double = 0.003
    ) {
        self.cases = cases
        self.seed = seed
        self.firstDay = firstDay
        self.cutoff = cutoff
        self.dirtyRowRate = dirtyRowRate
    }
}

/// One row of an agency export, before it is written as CSV.
public struct SynthRow: Sendable {
    public var agency: Int
    public var caseID: String
    public var event: String
    public var date: String
    public var detail: String = ""
    public var offence: String = ""
    public var victimAge: String = ""
    public var victimSex: String = ""
    public var state: String = ""
    public var channel: String = ""
    public var targetEvent: String = ""
    public var targetDetail: String = ""
    public var targetDate: String = ""
    /// Columns that must never leave the agency (dropped by `plazo seal`).
    public var victimName: String = ""
    public var notes: String = ""
}

/// What was generated.
public struct SynthSummary: Sendable {
    public var cases = 0
    public var rows = 0
    public var dirtyRows = 0
    public var rowsByAgency: [Int] = []
    /// Cases that reached a charge by the cutoff (for orientation, not published anywhere).
    public var charged = 0
}

/// Generates realistic case histories of online child sexual exploitation reports in one
/// jurisdiction (Mexico's 32 states): a hotline, a national centre that receives platform
/// (NCMEC) referrals, a police cyber unit and the state prosecutors, with referrals between them
/// so that one case's events come from two or three agencies.
///
/// The stage probabilities and delays follow the published patterns the domain notes describe:
/// most reports never reach a charge, temporary archive is the most common decision, times to
/// charge are months; victims are often not kept informed. The parameters are in
/// `docs/synthetic-data.md`. Deterministic for a seed; streams row by row, so 10 million cases
/// need no more memory than ten.
public struct SyntheticJurisdiction: Sendable {
    /// The agencies, in export order.
    public static let agencies: [SynthAgency] = [
        SynthAgency(name: "Línea Nacional de Denuncia (sintética)", type: AgencyType.hotline.label, file: "hotline.csv"),
        SynthAgency(name: "Centro Nacional contra Delitos a Menores (sintético)", type: AgencyType.nationalCentre.label, file: "national-centre.csv"),
        SynthAgency(name: "Policía Cibernética (sintética)", type: AgencyType.policeCyberUnit.label, file: "police-cyber-unit.csv"),
        SynthAgency(name: "Fiscalías Estatales (sintéticas)", type: AgencyType.stateProsecutor.label, file: "state-prosecutors.csv"),
    ]
    static let hotline = 0, centre = 1, police = 2, prosecutor = 3

    /// The CSV header every export uses (documented columns plus two that must be dropped).
    public static let header =
        "case_id,event,date,detail,offence_category,victim_age,victim_sex,state,report_channel,target_event,target_detail,target_date,victim_name,notes"

    let configuration: SynthConfiguration

    public init(_ configuration: SynthConfiguration) { self.configuration = configuration }

    // State weights: roughly proportional to population (INEGI 2020, in hundred-thousands).
    static let stateWeights: [Double] = [
        0, 14, 38, 8, 9, 31, 7, 55, 37, 92, 18, 62, 35, 31, 83, 170, 47, 20, 12, 58, 41, 66, 24, 19, 28, 30, 29, 24, 35,
        13, 81, 23, 16,
    ]
    static let offenceWeights: [(OffenceCategory, Double)] = [
        (.onlineGrooming, 24), (.csamDistribution, 19), (.csamPossession, 9), (.csamProduction, 5), (.sexualExtortion, 18),
        (.nonConsensualSharing, 13), (.liveStreaming, 2), (.unwantedExposure, 6), (.other, 2), (.unknown, 2),
    ]
    static let channelWeights: [(ReportChannel, Double)] = [
        (.victimOrFamily, 33), (.thirdParty, 14), (.hotline, 16), (.platformReferral, 31), (.proactiveInvestigation, 4), (.unknown, 2),
    ]

    /// Generates every row, calling `emit` for each, case by case.
    public func generate(_ emit: (SynthRow) throws -> Void) rethrows -> SynthSummary {
        var rng = Xoshiro256(seed: configuration.seed)
        var dirtyRng = Xoshiro256(seed: configuration.seed ^ 0xD1E7)
        var summary = SynthSummary()
        summary.rowsByAgency = [Int](repeating: 0, count: Self.agencies.count)
        try forEachCase(&rng) { _, history in
            if history.charged { summary.charged += 1 }
            summary.cases += 1
            for var row in history.rows {
                if dirtyRng.unit() < configuration.dirtyRowRate {
                    Self.dirty(&row, &dirtyRng)
                    summary.dirtyRows += 1
                }
                summary.rows += 1
                summary.rowsByAgency[row.agency] += 1
                try emit(row)
            }
        }
        return summary
    }

    /// The same cases as ``generate(_:)`` (same seed, same histories, no dirty rows), as
    /// validated events ready for a case index, without the CSV round trip: for benchmarks at
    /// millions of cases. Case `i` (from 0) gets the pseudonym `pseudonym(i)`; `emit` receives
    /// each event with the index of the agency that recorded it.
    public func generateEvents(
        pseudonym: (Int) -> CasePseudonym, _ emit: (CaseEvent, Int) throws -> Void
    ) rethrows -> SynthSummary {
        var rng = Xoshiro256(seed: configuration.seed)
        var summary = SynthSummary()
        summary.rowsByAgency = [Int](repeating: 0, count: Self.agencies.count)
        let agencyTypes = Self.agencies.map { (try? AgencyType.parse($0.type)) ?? .unknown }
        try forEachCase(&rng) { index, history in
            if history.charged { summary.charged += 1 }
            summary.cases += 1
            let p = pseudonym(index)
            let attributes = history.attributes
            for e in history.events {
                summary.rows += 1
                summary.rowsByAgency[e.agency] += 1
                try emit(
                    CaseEvent(
                        pseudonym: p, type: e.type, detail: e.detail, day: e.day, attributes: e.report ? attributes : .unknown,
                        agencyType: agencyTypes[e.agency], target: e.target
                    ),
                    e.agency
                )
            }
        }
        return summary
    }

    /// Simulates each case in turn.
    private func forEachCase(_ rng: inout Xoshiro256, _ body: (Int, CaseHistory) throws -> Void) rethrows {
        let span = configuration.firstDay.days(to: configuration.cutoff)
        let stateTable = AliasTable(Self.stateWeights)
        let offenceTable = AliasTable(Self.offenceWeights.map(\.1))
        let channelTable = AliasTable(Self.channelWeights.map(\.1))
        var serial = [Int](repeating: 0, count: 33)
        for index in 0..<configuration.cases {
            // Report volumes grow over the period: density ∝ 1 + x on [0, 1] (twice as many reports
            // a day at the end as at the start), sampled by inverting its CDF (x + x²/2) / 1.5.
            let u = rng.unit()
            let offset = Int(Double(span) * (-1 + (1 + 3 * u).squareRoot()).clamped(0, 1))
            let reportDay = configuration.firstDay.adding(days: min(span, max(0, offset)))
            let state = stateTable.sample(&rng)
            serial[state] += 1
            var history = CaseHistory(
                year: reportDay.civil.year, state: state, serial: serial[state], reportDay: reportDay,
                offence: Self.offenceWeights[offenceTable.sample(&rng)].0,
                channel: Self.channelWeights[channelTable.sample(&rng)].0,
                age: Self.age(&rng), sex: Self.sex(&rng)
            )
            history.simulate(&rng, cutoff: configuration.cutoff)
            try body(index, history)
        }
    }

    static func age(_ rng: inout Xoshiro256) -> Int {
        // 0–9: 8 %, 10–12: 22 %, 13–15: 45 %, 16–17: 25 %.
        let u = rng.unit()
        if u < 0.08 { return 5 + Int(rng.next() % 5) }
        if u < 0.30 { return 10 + Int(rng.next() % 3) }
        if u < 0.75 { return 13 + Int(rng.next() % 3) }
        return 16 + Int(rng.next() % 2)
    }

    static func sex(_ rng: inout Xoshiro256) -> VictimSex {
        let u = rng.unit()
        return u < 0.70 ? .female : u < 0.97 ? .male : u < 0.985 ? .other : .unknown
    }

    /// Realistic mistakes agencies make: impossible dates, misspelt labels, adult ages, empty ids.
    static func dirty(_ row: inout SynthRow, _ rng: inout Xoshiro256) {
        switch rng.next() % 5 {
        case 0: row.date = row.date.prefix(5) + "02-30"
        case 1: row.date = String(row.date.split(separator: "-").reversed().joined(separator: "/"))
        case 2: row.event = row.event + "x"
        case 3: row.victimAge = "19"
        default: row.caseID = ""
        }
    }
}

/// One case's life across agencies.
struct CaseHistory {
    let year: Int
    let state: Int
    let serial: Int
    let reportDay: Day
    let offence: OffenceCategory
    let channel: ReportChannel
    let age: Int
    let sex: VictimSex
    var events: [SynthEvent] = []
    var charged = false
    var cutoff = Day.epoch

    init(year: Int, state: Int, serial: Int, reportDay: Day, offence: OffenceCategory, channel: ReportChannel, age: Int, sex: VictimSex) {
        self.year = year
        self.state = state
        self.serial = serial
        self.reportDay = reportDay
        self.offence = offence
        self.channel = channel
        self.age = age
        self.sex = sex
    }

    static let stateCodes = [
        "XX", "AGS", "BC", "BCS", "CAM", "COA", "COL", "CHS", "CHH", "CDMX", "DGO", "GTO", "GRO", "HGO", "JAL", "MEX", "MICH", "MOR",
        "NAY", "NL", "OAX", "PUE", "QRO", "QROO", "SLP", "SIN", "SON", "TAB", "TAMPS", "TLAX", "VER", "YUC", "ZAC",
    ]

    /// The jurisdiction-wide identifier, written the way each agency writes it (normalisation
    /// makes them equal).
    func caseID(for agency: Int) -> String {
        let code = Self.stateCodes[state]
        let number = String(serial).leftPadded(to: 6)
        switch agency {
        case SyntheticJurisdiction.hotline: return "\(code.lowercased())-fe-\(year)-\(number)"
        case SyntheticJurisdiction.centre: return "\(code) FE \(year) \(number)"
        case SyntheticJurisdiction.police: return "\(code)/FE/\(year)/\(number)"
        default: return "\(code)-FE-\(year)-\(number)"
        }
    }

    mutating func add(_ agency: Int, _ type: EventType, _ day: Day, detail: UInt8 = 0, report: Bool = false, target: EventReference? = nil) {
        guard day <= cutoff else { return }
        events.append(SynthEvent(agency: agency, type: type, day: day, detail: detail, report: report, target: target))
    }

    /// The case's attributes as recorded on its report rows.
    var attributes: CaseAttributes {
        CaseAttributes(
            offence: offence, ageBand: (try? AgeBand.band(forAge: age)) ?? .unknown, sex: sex,
            state: MexicanState(rawValue: UInt8(state))!, channel: channel
        )
    }

    /// The events as export rows, the way each agency writes them.
    var rows: [SynthRow] {
        events.map { e in
            var row = SynthRow(
                agency: e.agency, caseID: caseID(for: e.agency), event: e.type.label, date: e.day.iso,
                detail: e.type.detailAttribute.map { $0.label(raw: e.detail) } ?? ""
            )
            if e.report {
                row.offence = offence.label
                row.victimAge = String(age)
                row.victimSex = sex.label
                row.state = MexicanState(rawValue: UInt8(state))!.label
                row.channel = channel.label
                row.victimName = "Persona sintética \(serial)"
                row.notes = "texto libre del expediente"
            }
            if let t = e.target {
                row.targetEvent = t.type.label
                row.targetDate = t.day.iso
            }
            return row
        }
    }

    mutating func simulate(_ rng: inout Xoshiro256, cutoff: Day) {
        self.cutoff = cutoff
        // Intake: who receives the report, and the referral chain to the prosecutor.
        var day = reportDay
        var handler: Int
        switch channel {
        case .hotline:
            add(SyntheticJurisdiction.hotline, .reportReceived, day, report: true)
            day = day.adding(days: rng.lognormalDays(median: 6, spread: 0.6))
            add(SyntheticJurisdiction.hotline, .referred, day, detail: AgencyType.policeCyberUnit.rawValue)
            handler = SyntheticJurisdiction.police
            add(handler, .reportReceived, day, report: true)
        case .platformReferral:
            add(SyntheticJurisdiction.centre, .reportReceived, day, report: true)
            day = day.adding(days: rng.lognormalDays(median: 20, spread: 0.8))
            add(SyntheticJurisdiction.centre, .referred, day, detail: AgencyType.stateProsecutor.rawValue)
            handler = SyntheticJurisdiction.prosecutor
            add(handler, .reportReceived, day, report: true)
        default:
            handler = rng.unit() < 0.55 ? SyntheticJurisdiction.prosecutor : SyntheticJurisdiction.police
            add(handler, .reportReceived, day, report: true)
        }
        // Victims are informed in under half of the cases (recommendation 7 of the briefing).
        let informed = rng.unit() < 0.42
        if handler == SyntheticJurisdiction.police {
            if rng.unit() < 0.7 {
                day = day.adding(days: rng.lognormalDays(median: 12, spread: 0.8))
                add(handler, .investigationOpened, day)
            }
            if rng.unit() < 0.55 {
                day = day.adding(days: rng.lognormalDays(median: 60, spread: 0.7))
                add(handler, .referred, day, detail: AgencyType.stateProsecutor.rawValue)
                handler = SyntheticJurisdiction.prosecutor
                add(handler, .reportReceived, day, report: true)
            } else {
                // Never referred: the police unit closes or archives it.
                if rng.unit() < 0.5 {
                    add(handler, .suspended, day.adding(days: rng.lognormalDays(median: 150, spread: 0.6)), detail: SuspensionReason.temporaryArchive.rawValue)
                } else {
                    add(handler, .closedWithoutCharge, day.adding(days: rng.lognormalDays(median: 120, spread: 0.7)), detail: closureReason(&rng))
                }
                if informed { victimUpdates(&rng, from: reportDay, handler: handler) }
                return
            }
        }
        // The prosecutor's investigation.
        day = day.adding(days: rng.lognormalDays(median: 15, spread: 0.7))
        add(handler, .investigationOpened, day)
        let suspectFound = rng.unit() < (offence == .sexualExtortion || offence == .nonConsensualSharing ? 0.45 : 0.33)
        if suspectFound {
            let suspectDay = day.adding(days: rng.lognormalDays(median: 110, spread: 0.8))
            add(handler, .suspectIdentified, suspectDay)
            if rng.unit() < 0.5 {
                let chargeDay = suspectDay.adding(days: rng.lognormalDays(median: 80, spread: 0.7))
                add(handler, .chargeFiled, chargeDay)
                charged = chargeDay <= cutoff
                if rng.unit() < 0.75 {
                    let dispositionDay = chargeDay.adding(days: rng.lognormalDays(median: 280, spread: 0.6))
                    add(handler, .disposed, dispositionDay, detail: disposition(&rng))
                }
            } else if rng.unit() < 0.6 {
                add(handler, .suspended, suspectDay.adding(days: rng.lognormalDays(median: 120, spread: 0.6)), detail: SuspensionReason.suspectNotLocated.rawValue)
            } else {
                add(handler, .closedWithoutCharge, suspectDay.adding(days: rng.lognormalDays(median: 150, spread: 0.6)), detail: ClosureReason.insufficientEvidence.rawValue)
            }
        } else if offence == .nonConsensualSharing, age >= 13, rng.unit() < 0.5 {
            // Self-generated imagery among peers: a child-protection response, not a failure.
            add(handler, .closedWithoutCharge, day.adding(days: rng.lognormalDays(median: 45, spread: 0.6)), detail: ClosureReason.childProtectionResponse.rawValue)
        } else if rng.unit() < 0.62 {
            let archived = day.adding(days: rng.lognormalDays(median: 170, spread: 0.6))
            add(handler, .suspended, archived, detail: SuspensionReason.temporaryArchive.rawValue)
            if rng.unit() < 0.12 {
                let reopened = archived.adding(days: rng.lognormalDays(median: 200, spread: 0.6))
                add(handler, .reopened, reopened)
                if rng.unit() < 0.3 {
                    add(handler, .suspectIdentified, reopened.adding(days: rng.lognormalDays(median: 60, spread: 0.6)))
                }
            }
        } else if rng.unit() < 0.7 {
            add(handler, .closedWithoutCharge, day.adding(days: rng.lognormalDays(median: 200, spread: 0.7)), detail: closureReason(&rng))
        }
        if informed { victimUpdates(&rng, from: reportDay, handler: handler) }
        // About 1 % of cases carry a correction: a mistyped date, voided and entered again.
        if rng.unit() < 0.01, let wrong = events.last(where: { $0.type == .investigationOpened && $0.agency == handler }) {
            let wrongDay = wrong.day.adding(days: 10)
            add(handler, .investigationOpened, wrongDay)
            add(handler, .void, wrongDay.adding(days: 3), target: EventReference(type: .investigationOpened, detail: 0, day: wrongDay))
        }
    }

    mutating func victimUpdates(_ rng: inout Xoshiro256, from start: Day, handler: Int) {
        var day = start.adding(days: rng.lognormalDays(median: 45, spread: 0.9))
        let kinds = [UpdateKind.progress, .decisionNotified, .hearingScheduled, .supportReferral]
        for _ in 0..<(1 + Int(rng.next() % 4)) {
            add(handler, .victimInformed, day, detail: kinds[Int(rng.next() % 4)].rawValue)
            day = day.adding(days: rng.lognormalDays(median: 120, spread: 0.7))
        }
    }

    func closureReason(_ rng: inout Xoshiro256) -> UInt8 {
        let u = rng.unit()
        let reason: ClosureReason =
            u < 0.40 ? .insufficientEvidence : u < 0.65 ? .noSuspectIdentified : u < 0.75 ? .notAnOffence
            : u < 0.87 ? .victimWithdrew : u < 0.93 ? .transferredOut : .other
        return reason.rawValue
    }

    func disposition(_ rng: inout Xoshiro256) -> UInt8 {
        let u = rng.unit()
        let d: Disposition =
            u < 0.45 ? .convictionByPlea : u < 0.65 ? .convictionAtTrial : u < 0.75 ? .acquittal : u < 0.85 ? .dismissal
            : u < 0.95 ? .diversion : .other
        return d.rawValue
    }
}

extension Double {
    func clamped(_ lo: Double, _ hi: Double) -> Double { Swift.min(hi, Swift.max(lo, self)) }
}

/// One event of a synthetic case, as the recording agency knows it.
struct SynthEvent: Sendable {
    let agency: Int
    let type: EventType
    let day: Day
    let detail: UInt8
    /// Whether the row carries the case's attributes (report rows).
    let report: Bool
    let target: EventReference?
}

extension VocabularyCode {
    static func label(raw: UInt8) -> String { Self(rawValue: raw)?.label ?? String(raw) }
}

/// Synthetic data draws from the shared deterministic generator (``Xoshiro256`` in `PlazoRandom`):
/// the same seed gives the same jurisdiction. Never used for keys or privacy noise.
extension Xoshiro256 {
    /// A log-normally distributed delay in whole days (at least 1) with the given median.
    mutating func lognormalDays(median: Double, spread: Double) -> Int {
        // Box–Muller.
        let u1 = max(unit(), 1e-300)
        let u2 = unit()
        let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        return max(1, Int((median * exp(spread * z)).rounded()))
    }
}

/// Walker's alias method for O(1) draws from fixed weights.
struct AliasTable: Sendable {
    let probability: [Double]
    let alias: [Int]

    init(_ weights: [Double]) {
        let n = weights.count
        let total = weights.reduce(0, +)
        var scaled = weights.map { $0 * Double(n) / total }
        var probability = [Double](repeating: 0, count: n)
        var alias = [Int](repeating: 0, count: n)
        var small = scaled.indices.filter { scaled[$0] < 1 }
        var large = scaled.indices.filter { scaled[$0] >= 1 }
        while let s = small.popLast() {
            guard let l = large.popLast() else {
                probability[s] = 1
                continue
            }
            probability[s] = scaled[s]
            alias[s] = l
            scaled[l] -= 1 - scaled[s]
            if scaled[l] < 1 { small.append(l) } else { large.append(l) }
        }
        for l in large { probability[l] = 1 }
        self.probability = probability
        self.alias = alias
    }

    func sample(_ rng: inout Xoshiro256) -> Int {
        let i = Int(rng.next() % UInt64(probability.count))
        return rng.unit() < probability[i] ? i : alias[i]
    }
}
