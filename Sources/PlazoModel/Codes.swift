// The codes of the event vocabulary v1 (`specs/events.md`), each type with its table: one row per
// code with its machine label, meaning and Spanish label. The protocol, the table type and the
// parsing rules are in Vocabulary.swift; accepted aliases in VocabularyAliases.swift.

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

    /// One row per code: machine label, meaning and Spanish label (`specs/events.md`).
    public static let vocabulary = VocabularyTable<EventType>([
        .init(.reportReceived, "report_received", meaning: "a report of the offence was received", es: "Denuncia recibida"),
        .init(.referred, "referred", meaning: "the case was referred to another agency", es: "Canalización a otra institución"),
        .init(.investigationOpened, "investigation_opened", meaning: "a formal investigation was opened", es: "Carpeta de investigación iniciada"),
        .init(.suspectIdentified, "suspect_identified", meaning: "a suspect was identified", es: "Probable responsable identificado"),
        .init(.chargeFiled, "charge_filed", meaning: "a charge was filed", es: "Imputación formulada"),
        .init(.suspended, "suspended", meaning: "the case was suspended (not terminal)", es: "Suspensión"),
        .init(.reopened, "reopened", meaning: "a suspended or closed case was reopened", es: "Reapertura"),
        .init(.closedWithoutCharge, "closed_without_charge", meaning: "the case was closed without a charge", es: "Cierre sin imputación"),
        .init(.disposed, "disposed", meaning: "the case was disposed", es: "Resolución"),
        .init(.victimInformed, "victim_informed", meaning: "the victim or family was given an update", es: "Víctima informada"),
        .init(.void, "void", meaning: "earlier events of the case are retracted", es: "Anulación"),
    ])

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

    /// One row per code: machine label, meaning and Spanish label (`specs/events.md`).
    public static let vocabulary = VocabularyTable<SuspensionReason>([
        .init(.unknown, "unknown", meaning: "reason not recorded", es: "Desconocido"),
        .init(.temporaryArchive, "temporary_archive", meaning: "temporary archive (archivo temporal)", es: "Archivo temporal"),
        .init(.suspectNotLocated, "suspect_not_located", meaning: "suspect identified but not located", es: "Probable responsable no localizado"),
        .init(.awaitingEvidence, "awaiting_evidence", meaning: "awaiting expert reports, platform data or international cooperation", es: "En espera de pruebas"),
        .init(.other, "other", meaning: "another reason", es: "Otro"),
    ])
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

    /// One row per code: machine label, meaning and Spanish label (`specs/events.md`).
    public static let vocabulary = VocabularyTable<ClosureReason>([
        .init(.unknown, "unknown", meaning: "reason not recorded", es: "Desconocido"),
        .init(.insufficientEvidence, "insufficient_evidence", meaning: "evidence insufficient to charge", es: "Pruebas insuficientes"),
        .init(.noSuspectIdentified, "no_suspect_identified", meaning: "no suspect could be identified", es: "Sin probable responsable identificado"),
        .init(.notAnOffence, "not_an_offence", meaning: "the facts do not constitute an offence", es: "Hechos no constitutivos de delito"),
        .init(.victimWithdrew, "victim_withdrew", meaning: "the victim or family withdrew or declined to proceed", es: "Desistimiento de la víctima"),
        .init(.childProtectionResponse, "child_protection_response", meaning: "handled by child protection and support instead of prosecution (not a failure)", es: "Atención por protección de la infancia"),
        .init(.transferredOut, "transferred_out", meaning: "transferred outside the jurisdiction", es: "Remitido fuera de la jurisdicción"),
        .init(.actionExtinguished, "action_extinguished", meaning: "criminal action extinguished (death, limitation)", es: "Extinción de la acción penal"),
        .init(.discretionaryDecision, "discretionary_decision", meaning: "discretionary decision not to prosecute", es: "Criterio de oportunidad"),
        .init(.other, "other", meaning: "another reason", es: "Otro"),
    ])
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

    /// One row per code: machine label, meaning and Spanish label (`specs/events.md`).
    public static let vocabulary = VocabularyTable<Disposition>([
        .init(.unknown, "unknown", meaning: "disposition not recorded", es: "Desconocido"),
        .init(.convictionByPlea, "conviction_by_plea", meaning: "conviction by plea (procedimiento abreviado)", es: "Condena en procedimiento abreviado"),
        .init(.convictionAtTrial, "conviction_at_trial", meaning: "conviction at trial", es: "Condena en juicio oral"),
        .init(.acquittal, "acquittal", meaning: "acquittal", es: "Absolución"),
        .init(.dismissal, "dismissal", meaning: "dismissal (sobreseimiento)", es: "Sobreseimiento"),
        .init(.diversion, "diversion", meaning: "diversion, conditional suspension or restorative agreement", es: "Salida alterna"),
        .init(.other, "other", meaning: "another disposition", es: "Otro"),
    ])

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

    /// One row per code: machine label, meaning and Spanish label (`specs/events.md`).
    public static let vocabulary = VocabularyTable<UpdateKind>([
        .init(.unspecified, "unspecified", meaning: "kind of update not recorded", es: "Sin especificar"),
        .init(.progress, "progress", meaning: "progress of the investigation", es: "Avance"),
        .init(.decisionNotified, "decision_notified", meaning: "a decision was notified", es: "Notificación de resolución"),
        .init(.hearingScheduled, "hearing_scheduled", meaning: "a hearing or court date was communicated", es: "Audiencia programada"),
        .init(.supportReferral, "support_referral", meaning: "referral to support services", es: "Canalización a servicios de apoyo"),
        .init(.other, "other", meaning: "another kind of update", es: "Otro"),
    ])
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

    /// One row per code: machine label, meaning and Spanish label (`specs/events.md`).
    public static let vocabulary = VocabularyTable<OffenceCategory>([
        .init(.unknown, "unknown", meaning: "offence category not recorded", es: "Desconocido"),
        .init(.csamProduction, "csam_production", meaning: "producing child sexual abuse material", es: "Pornografía infantil - producción"),
        .init(.csamDistribution, "csam_distribution", meaning: "distributing child sexual abuse material", es: "Pornografía infantil - difusión"),
        .init(.csamPossession, "csam_possession", meaning: "possessing child sexual abuse material", es: "Pornografía infantil - posesión"),
        .init(.onlineGrooming, "online_grooming", meaning: "online grooming or enticement", es: "Enganche en línea (grooming)"),
        .init(.liveStreaming, "live_streaming", meaning: "live streaming of child sexual abuse", es: "Transmisión en vivo de abuso sexual"),
        .init(.sexualExtortion, "sexual_extortion", meaning: "sexual extortion (sextortion)", es: "Sextorsión"),
        .init(.nonConsensualSharing, "non_consensual_sharing", meaning: "non-consensual sharing of self-generated sexual content", es: "Difusión no consentida de contenido íntimo"),
        .init(.unwantedExposure, "unwanted_exposure", meaning: "unwanted exposure to sexualised content", es: "Exposición a contenido sexual no deseado"),
        .init(.other, "other", meaning: "another online CSEA offence", es: "Otro"),
    ])
}

/// The victim's age band at the report.
public enum AgeBand: UInt8, VocabularyCode {
    case unknown = 0
    case age0to9 = 1
    case age10to12 = 2
    case age13to15 = 3
    case age16to17 = 4

    public static let attributeName = "victim_age_band"

    /// One row per code: machine label, meaning and Spanish label (`specs/events.md`).
    public static let vocabulary = VocabularyTable<AgeBand>([
        .init(.unknown, "unknown", meaning: "age not recorded", es: "Desconocido"),
        .init(.age0to9, "0-9", meaning: "0 to 9 years", es: "0 a 9 años"),
        .init(.age10to12, "10-12", meaning: "10 to 12 years", es: "10 a 12 años"),
        .init(.age13to15, "13-15", meaning: "13 to 15 years", es: "13 a 15 años"),
        .init(.age16to17, "16-17", meaning: "16 to 17 years", es: "16 a 17 años"),
    ])

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

    /// One row per code: machine label, meaning and Spanish label (`specs/events.md`).
    public static let vocabulary = VocabularyTable<VictimSex>([
        .init(.unknown, "unknown", meaning: "not recorded", es: "No registrado"),
        .init(.female, "female", meaning: "female", es: "Mujer"),
        .init(.male, "male", meaning: "male", es: "Hombre"),
        .init(.other, "other", meaning: "another recorded sex or gender", es: "Otro"),
    ])
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

    /// One row per code: machine label, meaning and Spanish label (`specs/events.md`).
    public static let vocabulary = VocabularyTable<ReportChannel>([
        .init(.unknown, "unknown", meaning: "channel not recorded", es: "Desconocido"),
        .init(.victimOrFamily, "victim_or_family", meaning: "the victim or their family", es: "Víctima o familia"),
        .init(.thirdParty, "third_party", meaning: "a third party (school, health worker, member of the public)", es: "Tercera persona"),
        .init(.hotline, "hotline", meaning: "a reporting hotline", es: "Línea de denuncia"),
        .init(.platformReferral, "platform_referral", meaning: "a platform report or NCMEC CyberTipline referral", es: "Reporte de plataforma"),
        .init(.proactiveInvestigation, "proactive_investigation", meaning: "a proactive investigation by the authorities", es: "Investigación proactiva"),
    ])
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

    /// One row per code: machine label, meaning and Spanish label (`specs/events.md`).
    public static let vocabulary = VocabularyTable<AgencyType>([
        .init(.unknown, "unknown", meaning: "agency type not recorded", es: "Desconocido"),
        .init(.policeCyberUnit, "police_cyber_unit", meaning: "police cyber unit", es: "Policía cibernética"),
        .init(.hotline, "hotline", meaning: "reporting hotline", es: "Línea de denuncia"),
        .init(.stateProsecutor, "state_prosecutor", meaning: "state prosecutor's office (fiscalía estatal)", es: "Fiscalía estatal"),
        .init(.federalProsecutor, "federal_prosecutor", meaning: "federal prosecutor's office (FGR)", es: "Fiscalía General de la República"),
        .init(.nationalCentre, "national_centre", meaning: "national specialised centre for crimes against minors", es: "Centro nacional especializado"),
        .init(.childProtection, "child_protection", meaning: "child protection authority (procuraduría de protección)", es: "Procuraduría de protección"),
        .init(.court, "court", meaning: "court or judiciary", es: "Poder judicial"),
        .init(.other, "other", meaning: "another kind of agency", es: "Otro"),
    ])
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

    /// One row per federal entity: the label is the two-digit INEGI code (`"09"`), or `unknown`;
    /// the meaning and the Spanish label are INEGI's name.
    public static let vocabulary = VocabularyTable<MexicanState>(
        names.indices.map { code in
            VocabularyRow(
                MexicanState(rawValue: UInt8(code))!, code == 0 ? "unknown" : (code < 10 ? "0\(code)" : "\(code)"),
                meaning: names[code], es: names[code])
        })
    public static func < (a: MexicanState, b: MexicanState) -> Bool { a.rawValue < b.rawValue }
}
