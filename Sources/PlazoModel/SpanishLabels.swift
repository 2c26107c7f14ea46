import Foundation

// Spanish labels of the vocabulary v1 (`specs/events.md`, column "etiqueta (es)").
//
// Every code has one Spanish label, as an office in Mexico would write it in its own export
// ("Denuncia recibida", "Pornografía infantil - difusión"). `plazo seal` accepts these labels,
// without regard to case, accents or punctuation, besides the machine labels and code numbers;
// `plazo vocabulary --lang es` prints them. A few common synonyms and short forms are accepted as
// aliases (state names such as CDMX or Edomex). A value that means two different codes in the two
// languages (`M`: mujer, or male) is refused with a sentence unless a mapping file says what the
// agency means by it.

extension EventType {
    /// The Spanish label.
    public var spanishLabel: String {
        switch self {
        case .reportReceived: "Denuncia recibida"
        case .referred: "Canalización a otra institución"
        case .investigationOpened: "Carpeta de investigación iniciada"
        case .suspectIdentified: "Probable responsable identificado"
        case .chargeFiled: "Imputación formulada"
        case .suspended: "Suspensión"
        case .reopened: "Reapertura"
        case .closedWithoutCharge: "Cierre sin imputación"
        case .disposed: "Resolución"
        case .victimInformed: "Víctima informada"
        case .void: "Anulación"
        }
    }

    public static var aliases: [String: EventType] {
        ["denuncia": .reportReceived, "canalizacion": .referred, "carpeta_de_investigacion": .investigationOpened,
         "imputacion": .chargeFiled, "archivo_temporal": .suspended, "anulacion_de_registro": .void]
    }
}

extension SuspensionReason {
    /// The Spanish label.
    public var spanishLabel: String {
        switch self {
        case .unknown: "Desconocido"
        case .temporaryArchive: "Archivo temporal"
        case .suspectNotLocated: "Probable responsable no localizado"
        case .awaitingEvidence: "En espera de pruebas"
        case .other: "Otro"
        }
    }
}

extension ClosureReason {
    /// The Spanish label.
    public var spanishLabel: String {
        switch self {
        case .unknown: "Desconocido"
        case .insufficientEvidence: "Pruebas insuficientes"
        case .noSuspectIdentified: "Sin probable responsable identificado"
        case .notAnOffence: "Hechos no constitutivos de delito"
        case .victimWithdrew: "Desistimiento de la víctima"
        case .childProtectionResponse: "Atención por protección de la infancia"
        case .transferredOut: "Remitido fuera de la jurisdicción"
        case .actionExtinguished: "Extinción de la acción penal"
        case .discretionaryDecision: "Criterio de oportunidad"
        case .other: "Otro"
        }
    }
}

extension Disposition {
    /// The Spanish label.
    public var spanishLabel: String {
        switch self {
        case .unknown: "Desconocido"
        case .convictionByPlea: "Condena en procedimiento abreviado"
        case .convictionAtTrial: "Condena en juicio oral"
        case .acquittal: "Absolución"
        case .dismissal: "Sobreseimiento"
        case .diversion: "Salida alterna"
        case .other: "Otro"
        }
    }
}

extension UpdateKind {
    /// The Spanish label.
    public var spanishLabel: String {
        switch self {
        case .unspecified: "Sin especificar"
        case .progress: "Avance"
        case .decisionNotified: "Notificación de resolución"
        case .hearingScheduled: "Audiencia programada"
        case .supportReferral: "Canalización a servicios de apoyo"
        case .other: "Otro"
        }
    }
}

extension OffenceCategory {
    /// The Spanish label.
    public var spanishLabel: String {
        switch self {
        case .unknown: "Desconocido"
        case .csamProduction: "Pornografía infantil - producción"
        case .csamDistribution: "Pornografía infantil - difusión"
        case .csamPossession: "Pornografía infantil - posesión"
        case .onlineGrooming: "Enganche en línea (grooming)"
        case .liveStreaming: "Transmisión en vivo de abuso sexual"
        case .sexualExtortion: "Sextorsión"
        case .nonConsensualSharing: "Difusión no consentida de contenido íntimo"
        case .unwantedExposure: "Exposición a contenido sexual no deseado"
        case .other: "Otro"
        }
    }

    public static var aliases: [String: OffenceCategory] {
        ["grooming": .onlineGrooming, "sextortion": .sexualExtortion, "extorsion_sexual": .sexualExtortion]
    }
}

extension AgeBand {
    /// The Spanish label.
    public var spanishLabel: String {
        switch self {
        case .unknown: "Desconocido"
        case .age0to9: "0 a 9 años"
        case .age10to12: "10 a 12 años"
        case .age13to15: "13 a 15 años"
        case .age16to17: "16 a 17 años"
        }
    }
}

extension VictimSex {
    /// The Spanish label.
    public var spanishLabel: String {
        switch self {
        case .unknown: "No registrado"
        case .female: "Mujer"
        case .male: "Hombre"
        case .other: "Otro"
        }
    }

    public static var aliases: [String: VictimSex] {
        ["f": .female, "femenino": .female, "h": .male, "masculino": .male, "nr": .unknown]
    }

    public static var ambiguous: [String: String] {
        ["m": "'M' is ambiguous: it may mean mujer (female) or male. Write female or male (mujer or hombre), or map M in a mapping file"]
    }
}

extension MexicanState {
    /// The Spanish label: INEGI's name of the federal entity.
    public var spanishLabel: String { meaning }

    /// Short and common names of the federal entities.
    public static var aliases: [String: MexicanState] {
        var out: [String: MexicanState] = [:]
        func add(_ code: UInt8, _ names: String...) { for n in names { out[n] = MexicanState(rawValue: code)! } }
        add(0, "desconocido", "no_registrado")
        add(2, "bc")
        add(3, "bcs")
        add(5, "coahuila")
        add(9, "cdmx", "df", "distrito_federal", "mexico_city", "ciudad_de_mexico")
        add(15, "edomex", "edo_mex", "estado_de_mexico", "mexico_state")
        add(16, "michoacan")
        add(22, "qro")
        add(23, "q_roo", "qroo")
        add(24, "slp")
        add(30, "veracruz")
        return out
    }
}

extension ReportChannel {
    /// The Spanish label.
    public var spanishLabel: String {
        switch self {
        case .unknown: "Desconocido"
        case .victimOrFamily: "Víctima o familia"
        case .thirdParty: "Tercera persona"
        case .hotline: "Línea de denuncia"
        case .platformReferral: "Reporte de plataforma"
        case .proactiveInvestigation: "Investigación proactiva"
        }
    }
}

extension AgencyType {
    /// The Spanish label.
    public var spanishLabel: String {
        switch self {
        case .unknown: "Desconocido"
        case .policeCyberUnit: "Policía cibernética"
        case .hotline: "Línea de denuncia"
        case .stateProsecutor: "Fiscalía estatal"
        case .federalProsecutor: "Fiscalía General de la República"
        case .nationalCentre: "Centro nacional especializado"
        case .childProtection: "Procuraduría de protección"
        case .court: "Poder judicial"
        case .other: "Otro"
        }
    }

    public static var aliases: [String: AgencyType] { ["fgr": .federalProsecutor] }
}

extension String {
    /// The form labels are compared in: lower case, accents removed, every run of characters other
    /// than letters and digits turned into one `_`, none at the ends (`"Pornografía infantil -
    /// difusión"` → `pornografia_infantil_difusion`, `"Edo. Méx."` → `edo_mex`).
    public var vocabularyKey: String {
        let folded = self.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).lowercased()
        var out = ""
        var pendingSeparator = false
        for scalar in folded.unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar) {
                if pendingSeparator && !out.isEmpty { out.append("_") }
                pendingSeparator = false
                out.unicodeScalars.append(scalar)
            } else {
                pendingSeparator = true
            }
        }
        return out
    }
}
