import Synchronization

/// A coded attribute of the event vocabulary v1 (`specs/events.md`).
///
/// Every code has a stable number (its raw value, one byte on the wire), a stable machine label
/// (snake_case, accepted in agency CSV exports) and a documented meaning. Code 0 is "unknown" for
/// every attribute that can be unknown; a number that is not in the list is an error, never
/// silently mapped to unknown.
public protocol VocabularyCode: RawRepresentable, CaseIterable, Hashable, Sendable, CustomStringConvertible
where RawValue == UInt8 {
    /// The attribute's name as used in specs, CSV headers and error messages (`offence_category`).
    static var attributeName: String { get }
    /// The stable machine label of this code (`online_grooming`).
    var label: String { get }
    /// A short human meaning of this code.
    var meaning: String { get }
    /// The Spanish label (`specs/events.md`, "etiqueta (es)"), accepted in exports.
    var spanishLabel: String { get }
    /// Other accepted spellings, by ``Swift/String/vocabularyKey`` (synonyms, short forms).
    static var aliases: [String: Self] { get }
    /// Values that mean different codes to different offices, by key, with the sentence that says
    /// why they are refused (a mapping file must say what the agency means).
    static var ambiguous: [String: String] { get }
}

extension VocabularyCode {
    public static var aliases: [String: Self] { [:] }
    public static var ambiguous: [String: String] { [:] }
}

/// Per-type lookup tables from ``Swift/String/vocabularyKey`` to code number, built once.
private let keyTables = Mutex<[ObjectIdentifier: [String: UInt8]]>([:])

extension VocabularyCode {
    /// Every accepted spelling of every code, by key: machine labels, Spanish labels, aliases.
    static var keyTable: [String: UInt8] {
        if let table = keyTables.withLock({ $0[ObjectIdentifier(Self.self)] }) { return table }
        var table: [String: UInt8] = [:]
        for (key, code) in aliases { table[key] = code.rawValue }
        for code in allCases {
            table[code.spanishLabel.vocabularyKey] = code.rawValue
            table[code.label.vocabularyKey] = code.rawValue
        }
        keyTables.withLock { $0[ObjectIdentifier(Self.self)] = table }
        return table
    }
}

extension VocabularyCode {
    public var description: String { label }

    /// Looks a code up by its number, or throws ``VocabularyError/codeOutOfRange(attribute:value:)``.
    public static func decode(_ raw: UInt8) throws(VocabularyError) -> Self {
        guard let code = Self(rawValue: raw) else {
            throw .codeOutOfRange(attribute: attributeName, value: Int(raw))
        }
        return code
    }

    /// Parses an agency's value: a machine label (`"online_grooming"`, `"13-15"`, `"09"`;
    /// case-insensitive), a decimal code number (`"4"`, `"04"`), or a label with `-` and spaces
    /// read as `_` (`"Online Grooming"`). Labels are tried first, so a state label `"09"` and
    /// an age-band label `"13-15"` read as labels. An empty value is
    /// not accepted here; callers decide whether an empty cell means unknown.
    public static func parse(_ text: String) throws(VocabularyError) -> Self {
        let trimmed = text.trimmingASCIIWhitespace()
        let lowered = trimmed.lowercased()
        if let code = allCases.first(where: { $0.label == lowered }) { return code }
        if !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard trimmed.utf8.count <= 3, let number = Int(trimmed), number <= 255,
                let code = Self(rawValue: UInt8(number))
            else { throw .codeOutOfRange(attribute: attributeName, value: Int(trimmed.prefix(9)) ?? Int.max) }
            return code
        }
        let normalised = String(
            lowered.map { ($0 == "-" || $0 == " ") ? "_" : $0 }
        )
        if let code = allCases.first(where: { $0.label == normalised }) { return code }
        // Spanish labels, aliases, any case, accents or punctuation.
        let key = trimmed.vocabularyKey
        if let advice = ambiguous[key] { throw .ambiguous(attribute: attributeName, label: String(trimmed.prefix(40)), advice: advice) }
        if let raw = keyTable[key], let code = Self(rawValue: raw) { return code }
        throw .unknownLabel(attribute: attributeName, label: String(trimmed.prefix(40)))
    }

    /// The closest accepted spelling to `text` (edit distance on keys, at most a third of its
    /// length), for "did you mean" hints; nil when nothing is close.
    public static func suggestion(for text: String) -> String? {
        let key = text.vocabularyKey
        guard !key.isEmpty else { return nil }
        var best: (distance: Int, code: Self)?
        for (candidate, raw) in keyTable {
            let d = editDistance(key, candidate)
            if d <= max(1, key.count / 3), best == nil || d < best!.distance, let code = Self(rawValue: raw) { best = (d, code) }
        }
        return best.map { "\($0.code.label) (\($0.code.spanishLabel))" }
    }
}

/// Errors in coded values.
public enum VocabularyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A number that is not a code of this attribute.
    case codeOutOfRange(attribute: String, value: Int)
    /// A label that is not a code of this attribute.
    case unknownLabel(attribute: String, label: String)
    /// A value that means different codes to different offices (e.g. `M`); `advice` says what to do.
    case ambiguous(attribute: String, label: String, advice: String)

    public var description: String {
        switch self {
        case let .codeOutOfRange(attribute, value): "\(value) is not a valid \(attribute) code"
        case let .unknownLabel(attribute, label): "'\(label)' is not a valid \(attribute) label"
        case let .ambiguous(_, _, advice): advice
        }
    }
}

/// Levenshtein distance between two short strings (for suggestions).
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.utf8), y = Array(b.utf8)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count), current = previous
    for i in 1...x.count {
        current[0] = i
        for j in 1...y.count {
            current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[y.count]
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" || first == "\r" || first == "\n" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" || last == "\r" || last == "\n" { view.removeLast() }
        return String(view)
    }
}

// MARK: - Event types

/// What happened in a case (`specs/events.md` §2).
public enum EventType: UInt8, VocabularyCode {
    /// The agency received a report of the offence (the case's origin).
    case reportReceived = 1
    /// The agency referred the case to another agency (detail: the receiving agency's type).
    case referred = 2
    /// A formal investigation was opened (carpeta de investigación).
    case investigationOpened = 3
    /// A suspect was identified.
    case suspectIdentified = 4
    /// A charge was filed against a suspect (formulación de imputación / consignación).
    case chargeFiled = 5
    /// The case was suspended, e.g. temporary archive (detail: ``SuspensionReason``). Not terminal.
    case suspended = 6
    /// A suspended or closed case was reopened.
    case reopened = 7
    /// The case was closed without a charge (detail: ``ClosureReason``). Terminal unless reopened.
    case closedWithoutCharge = 8
    /// The case was disposed by a court or alternative resolution (detail: ``Disposition``).
    case disposed = 9
    /// The victim or their family was given an update on the case (detail: ``UpdateKind``).
    case victimInformed = 10
    /// A correction that retracts earlier events of the same case (the target fields name them).
    case void = 11

    public static let attributeName = "event_type"

    public var label: String {
        switch self {
        case .reportReceived: "report_received"
        case .referred: "referred"
        case .investigationOpened: "investigation_opened"
        case .suspectIdentified: "suspect_identified"
        case .chargeFiled: "charge_filed"
        case .suspended: "suspended"
        case .reopened: "reopened"
        case .closedWithoutCharge: "closed_without_charge"
        case .disposed: "disposed"
        case .victimInformed: "victim_informed"
        case .void: "void"
        }
    }

    public var meaning: String {
        switch self {
        case .reportReceived: "a report of the offence was received"
        case .referred: "the case was referred to another agency"
        case .investigationOpened: "a formal investigation was opened"
        case .suspectIdentified: "a suspect was identified"
        case .chargeFiled: "a charge was filed"
        case .suspended: "the case was suspended (not terminal)"
        case .reopened: "a suspended or closed case was reopened"
        case .closedWithoutCharge: "the case was closed without a charge"
        case .disposed: "the case was disposed"
        case .victimInformed: "the victim or family was given an update"
        case .void: "earlier events of the case are retracted"
        }
    }

    /// The detail vocabulary this event type uses, or nil when its detail must be 0.
    public var detailAttribute: (any VocabularyCode.Type)? {
        switch self {
        case .referred: AgencyType.self
        case .suspended: SuspensionReason.self
        case .closedWithoutCharge: ClosureReason.self
        case .disposed: Disposition.self
        case .victimInformed: UpdateKind.self
        case .reportReceived, .investigationOpened, .suspectIdentified, .chargeFiled, .reopened, .void: nil
        }
    }

    /// Whether `detail` is a valid detail code for this event type.
    ///
    /// Spelled out per type rather than through ``detailAttribute``: initialising a code through
    /// an existential metatype looks generic metadata up at run time, which cost a tenth of the
    /// in-memory ingest path (every record is validated). `VocabularyTests` checks that the two agree.
    @inlinable
    public func isValidDetail(_ detail: UInt8) -> Bool {
        switch self {
        case .referred: AgencyType(rawValue: detail) != nil
        case .suspended: SuspensionReason(rawValue: detail) != nil
        case .closedWithoutCharge: ClosureReason(rawValue: detail) != nil
        case .disposed: Disposition(rawValue: detail) != nil
        case .victimInformed: UpdateKind(rawValue: detail) != nil
        case .reportReceived, .investigationOpened, .suspectIdentified, .chargeFiled, .reopened, .void: detail == 0
        }
    }
}

// MARK: - Detail codes

/// Why a case was suspended (detail of ``EventType/suspended``).
public enum SuspensionReason: UInt8, VocabularyCode {
    case unknown = 0
    /// Archivo temporal: no lines of investigation for now; the most common decision in Mexico.
    case temporaryArchive = 1
    /// The suspect is identified but cannot be located.
    case suspectNotLocated = 2
    /// Waiting for expert reports, platform data or international cooperation.
    case awaitingEvidence = 3
    case other = 4

    public static let attributeName = "suspension_reason"
    public var label: String {
        switch self {
        case .unknown: "unknown"
        case .temporaryArchive: "temporary_archive"
        case .suspectNotLocated: "suspect_not_located"
        case .awaitingEvidence: "awaiting_evidence"
        case .other: "other"
        }
    }
    public var meaning: String {
        switch self {
        case .unknown: "reason not recorded"
        case .temporaryArchive: "temporary archive (archivo temporal)"
        case .suspectNotLocated: "suspect identified but not located"
        case .awaitingEvidence: "awaiting expert reports, platform data or international cooperation"
        case .other: "another reason"
        }
    }
}

/// Why a case was closed without a charge (detail of ``EventType/closedWithoutCharge``).
public enum ClosureReason: UInt8, VocabularyCode {
    case unknown = 0
    /// Evidence insufficient to charge.
    case insufficientEvidence = 1
    /// No suspect could be identified.
    case noSuspectIdentified = 2
    /// The facts do not constitute an offence.
    case notAnOffence = 3
    /// The victim or family withdrew or declined to proceed.
    case victimWithdrew = 4
    /// Child-appropriate closure: handled through child protection and support rather than
    /// prosecution (for example self-generated imagery shared among peers). Not a failure.
    case childProtectionResponse = 5
    /// Transferred outside the jurisdiction (another country, or a body outside Plazo).
    case transferredOut = 6
    /// Criminal action extinguished (suspect deceased, statute of limitations).
    case actionExtinguished = 7
    /// Abstention or discretionary decision not to investigate (no ejercicio de la acción penal).
    case discretionaryDecision = 8
    case other = 9

    public static let attributeName = "closure_reason"
    public var label: String {
        switch self {
        case .unknown: "unknown"
        case .insufficientEvidence: "insufficient_evidence"
        case .noSuspectIdentified: "no_suspect_identified"
        case .notAnOffence: "not_an_offence"
        case .victimWithdrew: "victim_withdrew"
        case .childProtectionResponse: "child_protection_response"
        case .transferredOut: "transferred_out"
        case .actionExtinguished: "action_extinguished"
        case .discretionaryDecision: "discretionary_decision"
        case .other: "other"
        }
    }
    public var meaning: String {
        switch self {
        case .unknown: "reason not recorded"
        case .insufficientEvidence: "evidence insufficient to charge"
        case .noSuspectIdentified: "no suspect could be identified"
        case .notAnOffence: "the facts do not constitute an offence"
        case .victimWithdrew: "the victim or family withdrew or declined to proceed"
        case .childProtectionResponse: "handled by child protection and support instead of prosecution (not a failure)"
        case .transferredOut: "transferred outside the jurisdiction"
        case .actionExtinguished: "criminal action extinguished (death, limitation)"
        case .discretionaryDecision: "discretionary decision not to prosecute"
        case .other: "another reason"
        }
    }
}

/// How a charged case was disposed (detail of ``EventType/disposed``).
public enum Disposition: UInt8, VocabularyCode {
    case unknown = 0
    case convictionByPlea = 1
    case convictionAtTrial = 2
    case acquittal = 3
    case dismissal = 4
    /// Diversion or conditional suspension of proceedings (suspensión condicional, acuerdo reparatorio).
    case diversion = 5
    case other = 6

    public static let attributeName = "disposition"
    public var label: String {
        switch self {
        case .unknown: "unknown"
        case .convictionByPlea: "conviction_by_plea"
        case .convictionAtTrial: "conviction_at_trial"
        case .acquittal: "acquittal"
        case .dismissal: "dismissal"
        case .diversion: "diversion"
        case .other: "other"
        }
    }
    public var meaning: String {
        switch self {
        case .unknown: "disposition not recorded"
        case .convictionByPlea: "conviction by plea (procedimiento abreviado)"
        case .convictionAtTrial: "conviction at trial"
        case .acquittal: "acquittal"
        case .dismissal: "dismissal (sobreseimiento)"
        case .diversion: "diversion, conditional suspension or restorative agreement"
        case .other: "another disposition"
        }
    }
    /// Whether the disposition is a conviction.
    public var isConviction: Bool { self == .convictionByPlea || self == .convictionAtTrial }
}

/// What kind of update the victim or family was given (detail of ``EventType/victimInformed``).
public enum UpdateKind: UInt8, VocabularyCode {
    case unspecified = 0
    /// News on the progress of the investigation.
    case progress = 1
    /// A decision (charge, suspension, closure, disposition) was notified.
    case decisionNotified = 2
    /// A hearing or court date was communicated.
    case hearingScheduled = 3
    /// Referral to support services (psychological, legal, social).
    case supportReferral = 4
    case other = 5

    public static let attributeName = "update_kind"
    public var label: String {
        switch self {
        case .unspecified: "unspecified"
        case .progress: "progress"
        case .decisionNotified: "decision_notified"
        case .hearingScheduled: "hearing_scheduled"
        case .supportReferral: "support_referral"
        case .other: "other"
        }
    }
    public var meaning: String {
        switch self {
        case .unspecified: "kind of update not recorded"
        case .progress: "progress of the investigation"
        case .decisionNotified: "a decision was notified"
        case .hearingScheduled: "a hearing or court date was communicated"
        case .supportReferral: "referral to support services"
        case .other: "another kind of update"
        }
    }
}

// MARK: - Case attributes

/// Online child sexual exploitation and abuse typology (ECPAT / WeProtect / Luxembourg Guidelines).
public enum OffenceCategory: UInt8, VocabularyCode {
    case unknown = 0
    case csamProduction = 1
    case csamDistribution = 2
    case csamPossession = 3
    case onlineGrooming = 4
    case liveStreaming = 5
    case sexualExtortion = 6
    case nonConsensualSharing = 7
    case unwantedExposure = 8
    case other = 9

    public static let attributeName = "offence_category"
    public var label: String {
        switch self {
        case .unknown: "unknown"
        case .csamProduction: "csam_production"
        case .csamDistribution: "csam_distribution"
        case .csamPossession: "csam_possession"
        case .onlineGrooming: "online_grooming"
        case .liveStreaming: "live_streaming"
        case .sexualExtortion: "sexual_extortion"
        case .nonConsensualSharing: "non_consensual_sharing"
        case .unwantedExposure: "unwanted_exposure"
        case .other: "other"
        }
    }
    public var meaning: String {
        switch self {
        case .unknown: "offence category not recorded"
        case .csamProduction: "producing child sexual abuse material"
        case .csamDistribution: "distributing child sexual abuse material"
        case .csamPossession: "possessing child sexual abuse material"
        case .onlineGrooming: "online grooming or enticement"
        case .liveStreaming: "live streaming of child sexual abuse"
        case .sexualExtortion: "sexual extortion (sextortion)"
        case .nonConsensualSharing: "non-consensual sharing of self-generated sexual content"
        case .unwantedExposure: "unwanted exposure to sexualised content"
        case .other: "another online CSEA offence"
        }
    }
}

/// The victim's age band at the report.
public enum AgeBand: UInt8, VocabularyCode {
    case unknown = 0
    case age0to9 = 1
    case age10to12 = 2
    case age13to15 = 3
    case age16to17 = 4

    public static let attributeName = "victim_age_band"
    public var label: String {
        switch self {
        case .unknown: "unknown"
        case .age0to9: "0-9"
        case .age10to12: "10-12"
        case .age13to15: "13-15"
        case .age16to17: "16-17"
        }
    }
    public var meaning: String {
        switch self {
        case .unknown: "age not recorded"
        case .age0to9: "0 to 9 years"
        case .age10to12: "10 to 12 years"
        case .age13to15: "13 to 15 years"
        case .age16to17: "16 to 17 years"
        }
    }

    /// The band of an age in whole years. Plazo measures offences against children: ages of 18
    /// and over, and negative ages, are errors (the row is rejected, not banded as unknown).
    public static func band(forAge years: Int) throws(VocabularyError) -> AgeBand {
        switch years {
        case 0...9: .age0to9
        case 10...12: .age10to12
        case 13...15: .age13to15
        case 16...17: .age16to17
        default: throw .codeOutOfRange(attribute: "victim_age", value: years)
        }
    }
}

/// The victim's recorded sex.
public enum VictimSex: UInt8, VocabularyCode {
    case unknown = 0
    case female = 1
    case male = 2
    case other = 3

    public static let attributeName = "victim_sex"
    public var label: String {
        switch self {
        case .unknown: "unknown"
        case .female: "female"
        case .male: "male"
        case .other: "other"
        }
    }
    public var meaning: String {
        switch self {
        case .unknown: "not recorded"
        case .female: "female"
        case .male: "male"
        case .other: "another recorded sex or gender"
        }
    }
}

/// How the report reached the authorities.
public enum ReportChannel: UInt8, VocabularyCode {
    case unknown = 0
    case victimOrFamily = 1
    case thirdParty = 2
    case hotline = 3
    /// A platform report, including NCMEC CyberTipline referrals.
    case platformReferral = 4
    case proactiveInvestigation = 5

    public static let attributeName = "report_channel"
    public var label: String {
        switch self {
        case .unknown: "unknown"
        case .victimOrFamily: "victim_or_family"
        case .thirdParty: "third_party"
        case .hotline: "hotline"
        case .platformReferral: "platform_referral"
        case .proactiveInvestigation: "proactive_investigation"
        }
    }
    public var meaning: String {
        switch self {
        case .unknown: "channel not recorded"
        case .victimOrFamily: "the victim or their family"
        case .thirdParty: "a third party (school, health worker, member of the public)"
        case .hotline: "a reporting hotline"
        case .platformReferral: "a platform report or NCMEC CyberTipline referral"
        case .proactiveInvestigation: "a proactive investigation by the authorities"
        }
    }
}

/// The kind of agency that recorded an event (and, for referrals, the kind it was referred to).
public enum AgencyType: UInt8, VocabularyCode {
    case unknown = 0
    case policeCyberUnit = 1
    case hotline = 2
    case stateProsecutor = 3
    case federalProsecutor = 4
    /// A national specialised centre (e.g. the national guard's centre for crimes against minors).
    case nationalCentre = 5
    case childProtection = 6
    case court = 7
    case other = 8

    public static let attributeName = "agency_type"
    public var label: String {
        switch self {
        case .unknown: "unknown"
        case .policeCyberUnit: "police_cyber_unit"
        case .hotline: "hotline"
        case .stateProsecutor: "state_prosecutor"
        case .federalProsecutor: "federal_prosecutor"
        case .nationalCentre: "national_centre"
        case .childProtection: "child_protection"
        case .court: "court"
        case .other: "other"
        }
    }
    public var meaning: String {
        switch self {
        case .unknown: "agency type not recorded"
        case .policeCyberUnit: "police cyber unit"
        case .hotline: "reporting hotline"
        case .stateProsecutor: "state prosecutor's office (fiscalía estatal)"
        case .federalProsecutor: "federal prosecutor's office (FGR)"
        case .nationalCentre: "national specialised centre for crimes against minors"
        case .childProtection: "child protection authority (procuraduría de protección)"
        case .court: "court or judiciary"
        case .other: "another kind of agency"
        }
    }
}

/// Mexico's 32 federal entities by INEGI code (01–32), and 0 for unknown.
public struct MexicanState: RawRepresentable, Hashable, Sendable, Comparable, VocabularyCode {
    public let rawValue: UInt8
    public init?(rawValue: UInt8) {
        guard rawValue <= 32 else { return nil }
        self.rawValue = rawValue
    }

    /// State not recorded.
    public static let unknown = MexicanState(rawValue: 0)!
    public static let attributeName = "state"
    public static var allCases: [MexicanState] { (0...32).map { MexicanState(rawValue: $0)! } }

    /// INEGI's names of the federal entities, by code.
    public static let names: [String] = [
        "Desconocido", "Aguascalientes", "Baja California", "Baja California Sur", "Campeche",
        "Coahuila de Zaragoza", "Colima", "Chiapas", "Chihuahua", "Ciudad de México", "Durango",
        "Guanajuato", "Guerrero", "Hidalgo", "Jalisco", "México", "Michoacán de Ocampo", "Morelos",
        "Nayarit", "Nuevo León", "Oaxaca", "Puebla", "Querétaro", "Quintana Roo", "San Luis Potosí",
        "Sinaloa", "Sonora", "Tabasco", "Tamaulipas", "Tlaxcala", "Veracruz de Ignacio de la Llave",
        "Yucatán", "Zacatecas",
    ]

    /// The label is the two-digit INEGI code (`"09"`), or `unknown`.
    public var label: String { rawValue == 0 ? "unknown" : (rawValue < 10 ? "0\(rawValue)" : "\(rawValue)") }
    public var meaning: String { Self.names[Int(rawValue)] }
    public static func < (a: MexicanState, b: MexicanState) -> Bool { a.rawValue < b.rawValue }
}
