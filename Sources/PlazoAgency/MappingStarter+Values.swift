import Foundation
import PlazoModel

extension MappingStarter {
    /// A guess for one value of a coded column.
    enum Guess: Equatable {
        /// The Plazo label, and a note when the guess is loose (to check).
        case mapped(String, note: String?)
        case ambiguous(String)
        case unknown
    }

    /// Words offices write for Plazo's codes beyond the vocabulary's own labels and aliases, by
    /// ``singularKey(_:)``, per vocabulary. The starter proposes them; the clerk confirms them.
    static let synonyms: [String: [String: String]] = [
        EventType.attributeName: [
            "denuncia_recibida": "report_received", "reporte": "report_received", "reporte_recibido": "report_received",
            "recepcion_de_reporte": "report_received", "recepcion_de_denuncia": "report_received", "querella": "report_received",
            "canalizado": "referred", "canalizada": "referred", "canalizacion": "referred", "remision": "referred", "remitido": "referred",
            "derivacion": "referred", "derivado": "referred", "turnado": "referred", "referido": "referred",
            "inicio_de_carpeta": "investigation_opened", "carpeta_iniciada": "investigation_opened", "inicio_de_investigacion": "investigation_opened",
            "investigacion_iniciada": "investigation_opened", "apertura_de_carpeta": "investigation_opened",
            "carpeta_de_investigacion_iniciada": "investigation_opened", "investigacion_abierta": "investigation_opened",
            "imputado_identificado": "suspect_identified", "identificacion_de_probable_responsable": "suspect_identified",
            "imputacion_formulada": "charge_filed", "formulacion_de_imputacion": "charge_filed", "imputado": "charge_filed",
            "suspension": "suspended", "suspendido": "suspended", "suspendida": "suspended",
            "reapertura": "reopened", "reabierto": "reopened", "reabierta": "reopened", "reactivacion": "reopened",
            "cierre_sin_imputacion": "closed_without_charge", "no_ejercicio_de_la_accion_penal": "closed_without_charge",
            "no_ejercicio": "closed_without_charge", "cerrado": "closed_without_charge", "cerrada": "closed_without_charge",
            "cierre": "closed_without_charge", "concluido": "closed_without_charge",
            "resolucion": "disposed", "sentencia": "disposed", "resuelto": "disposed",
            "victima_informada": "victim_informed", "notificacion_a_victima": "victim_informed", "victima_notificada": "victim_informed",
            "informe_a_victima": "victim_informed", "anulacion": "void", "anulado": "void", "anulada": "void", "anular": "void",
            "cancelacion": "void", "cancelado": "void",
            "new_report": "report_received", "report": "report_received", "closed": "closed_without_charge", "charged": "charge_filed",
            "charge": "charge_filed", "suspect_identified": "suspect_identified", "reopened": "reopened", "victim_updated": "victim_informed",
        ],
        OffenceCategory.attributeName: [
            "ley_olimpia": "non_consensual_sharing", "contenido_intimo_sin_consentimiento": "non_consensual_sharing",
            "difusion_de_contenido_intimo": "non_consensual_sharing", "violacion_a_la_intimidad_sexual": "non_consensual_sharing",
            "enganche": "online_grooming", "ciberacoso_sexual": "online_grooming", "transmision_en_vivo": "live_streaming",
            "extorsion_sexual": "sexual_extortion", "otro": "other", "otros": "other", "intimo": "non_consensual_sharing",
            "intima": "non_consensual_sharing", "olimpia": "non_consensual_sharing", "non_consensual": "non_consensual_sharing",
            "intimate_image": "non_consensual_sharing", "livestream": "live_streaming", "live_streaming": "live_streaming",
        ],
        VictimSex.attributeName: [
            "nina": "female", "nino": "male", "fem": "female", "masc": "male", "no_especificado": "unknown", "sin_dato": "unknown",
            "se_desconoce": "unknown", "desconocido": "unknown", "no_binario": "other", "girl": "female", "boy": "male",
            "non_binary": "other",
        ],
        ReportChannel.attributeName: [
            "victima": "victim_or_family", "familia": "victim_or_family", "familiar": "victim_or_family", "madre": "victim_or_family",
            "padre": "victim_or_family", "victima_o_familiar": "victim_or_family", "tercero": "third_party", "tercera_persona": "third_party",
            "linea": "hotline", "hotline": "hotline", "plataforma": "platform_referral", "ncmec": "platform_referral",
            "cybertipline": "platform_referral", "de_oficio": "proactive_investigation", "oficio": "proactive_investigation",
            "patrullaje_cibernetico": "proactive_investigation", "investigacion_de_oficio": "proactive_investigation",
            "victim": "victim_or_family", "family": "victim_or_family", "parent": "victim_or_family", "public": "third_party",
            "public_report": "third_party", "esp": "platform_referral", "provider": "platform_referral", "proactive": "proactive_investigation",
        ],
        AgencyType.attributeName: [
            "fiscalia": "state_prosecutor", "fge": "state_prosecutor", "fiscalia_del_estado": "state_prosecutor",
            "policia": "police_cyber_unit", "ssc": "police_cyber_unit", "dif": "child_protection", "pfpnna": "child_protection",
            "procuraduria_de_proteccion_de_nina_nino_y_adolescente": "child_protection", "juzgado": "court", "tribunal": "court",
        ],
        ClosureReason.attributeName: [
            "no_constitutivo_de_delito": "not_an_offence", "sin_probable_responsable": "no_suspect_identified",
            "desistimiento": "victim_withdrew", "incompetencia": "transferred_out", "falta_de_pruebas": "insufficient_evidence",
            "not_illegal": "not_an_offence",
        ],
        SuspensionReason.attributeName: ["en_espera_de_dictamen": "awaiting_evidence", "no_localizado": "suspect_not_located"],
        Disposition.attributeName: [
            "procedimiento_abreviado": "conviction_by_plea", "juicio_oral": "conviction_at_trial", "sentencia_absolutoria": "acquittal",
            "suspension_condicional": "diversion", "acuerdo_reparatorio": "diversion",
        ],
        UpdateKind.attributeName: ["audiencia": "hearing_scheduled", "notificacion": "decision_notified"],
    ]

    /// Words left aside when comparing a value with a spelling.
    static let stopWords: Set<String> = ["de", "del", "la", "el", "los", "las", "a", "al", "se", "en", "por", "the", "of", "to", "by"]

    /// Words of a value that name a report channel wherever they stand (`Reporte NCMEC`).
    static let channelWords: [String: String] = [
        "ncmec": "platform_referral", "cybertipline": "platform_referral", "plataforma": "platform_referral", "oficio": "proactive_investigation",
        "patrullaje": "proactive_investigation",
    ]

    /// A key with each word in the singular (`terceras_personas` → `tercera_persona`,
    /// `familiares` → `familiar`), so plural and singular spellings meet.
    static func singularKey(_ key: String) -> String {
        key.split(separator: "_").map { word -> String in
            let w = String(word)
            guard w.count > 3, w.hasSuffix("s"), !w.hasSuffix("ss") else { return w }
            let stem = w.dropLast(2)
            if w.hasSuffix("es"), let last = stem.last, "rlndzj".contains(last) { return String(stem) }
            return String(w.dropLast())
        }.joined(separator: "_")
    }

    /// Every spelling of a vocabulary's codes, by singular key: machine and Spanish labels,
    /// aliases and ``synonyms``.
    static func spellings<C: VocabularyCode>(_: C.Type) -> [String: C] {
        var out: [String: C] = [:]
        for code in C.allCases {
            out[singularKey(code.label.vocabularyKey)] = code
            out[singularKey(code.spanishLabel.vocabularyKey)] = code
        }
        for (key, code) in C.aliases { out[singularKey(key)] = code }
        for (key, label) in synonyms[C.attributeName] ?? [:] {
            if let code = try? C.parse(label) { out[singularKey(key)] = code }
        }
        return out
    }

    /// Guesses the code of one value in one vocabulary: the vocabulary's own reading, then
    /// synonyms with accents, case and plurals folded, then a unique run of words inside one
    /// spelling (`Transmisión en vivo` in *Transmisión en vivo de abuso sexual*), then a spelling
    /// one letter away.
    static func guess<C: VocabularyCode>(_ value: String, as _: C.Type) -> Guess {
        do { return .mapped(try C.parse(value).label, note: nil) } catch {
            if case let .ambiguous(_, _, advice) = error { return .ambiguous(advice) }
        }
        let key = singularKey(value.vocabularyKey)
        guard !key.isEmpty else { return .unknown }
        let table = spellings(C.self)
        if let code = table[key] { return .mapped(code.label, note: nil) }
        if C.self == ReportChannel.self {
            for word in key.split(separator: "_") {
                if let label = channelWords[String(word)] { return .mapped(label, note: "guessed from the word '\(word)'") }
            }
        }
        let words = key.split(separator: "_").map(String.init)
        if words.count >= 2 {
            var found = Set<String>()
            for (spelling, code) in table {
                let s = spelling.split(separator: "_").map(String.init)
                guard s.count > words.count else { continue }
                for start in 0...(s.count - words.count) where Array(s[start..<(start + words.count)]) == words {
                    found.insert(code.label)
                }
            }
            if found.count == 1, let label = found.first {
                return .mapped(label, note: "read as part of a longer label: check")
            }
        }
        // Small words (de, la, a …) aside: `Notificación a la víctima` meets `notificación a víctima`.
        let content = words.filter { !stopWords.contains($0) }
        if !content.isEmpty {
            var same = Set<String>()
            for (spelling, code) in table where spelling.split(separator: "_").filter({ !stopWords.contains(String($0)) }).map(String.init) == content {
                same.insert(code.label)
            }
            if same.count == 1, let label = same.first { return .mapped(label, note: nil) }
        }
        // A spelling inside the value (`Se formuló imputación`, `SSPC Policía Cibernética`), when
        // the spellings found all name one code.
        var inside = Set<String>()
        var word = ""
        for (spelling, code) in table {
            let s = spelling.split(separator: "_").map(String.init).filter { !stopWords.contains($0) }
            guard !s.isEmpty, s.count < content.count || (s.count == content.count && s != content), s.joined().count >= 3 else { continue }
            for start in 0...max(0, content.count - s.count) where start + s.count <= content.count && Array(content[start..<(start + s.count)]) == s {
                inside.insert(code.label)
                word = s.joined(separator: " ")
            }
        }
        if inside.count == 1, let label = inside.first { return .mapped(label, note: "read from the words '\(word)': check") }
        if key.count >= 8 {
            var best: (distance: Int, label: String)?
            var tie = false
            for (spelling, code) in table {
                let d = starterEditDistance(key, spelling)
                guard d <= 1 else { continue }
                if let b = best, b.distance == d, b.label != code.label { tie = true }
                if best == nil || d < best!.distance { best = (d, code.label); tie = false }
            }
            if let best, !tie { return .mapped(best.label, note: "one letter away from a label: check") }
        }
        return .unknown
    }

    /// The detail lists, in the order tried when the event type of a detail is not known.
    static func detailGuess(_ value: String, eventTypes: Set<EventType>) -> Guess {
        var lists: [any VocabularyCode.Type] = []
        for type in EventType.allCases where eventTypes.contains(type) {
            if let list = type.detailAttribute { lists.append(list) }
        }
        for list in [SuspensionReason.self, ClosureReason.self, Disposition.self, UpdateKind.self, AgencyType.self] as [any VocabularyCode.Type]
        where !lists.contains(where: { ObjectIdentifier($0) == ObjectIdentifier(list) }) {
            lists.append(list)
        }
        var loose: Guess?
        for list in lists {
            let g = guessIn(list, value)
            if case let .mapped(_, note) = g {
                if note == nil { return g }
                if loose == nil { loose = g }
            }
        }
        return loose ?? .unknown
    }

    static func guessIn(_ list: any VocabularyCode.Type, _ value: String) -> Guess {
        func open<C: VocabularyCode>(_ t: C.Type) -> Guess { guess(value, as: t) }
        return open(list)
    }

    /// Guesses a value of a coded Plazo column (`others`: the column's other values, which settle
    /// what an `M` means for sex; `eventTypes`: the event types a detail value goes with).
    static func guessCode(_ value: String, for column: ExportColumn, others: Set<String> = [], eventTypes: Set<EventType> = []) -> Guess {
        switch column {
        case .event, .targetEvent: return guess(value, as: EventType.self)
        case .offenceCategory:
            let key = singularKey(value.vocabularyKey)
            // Child sexual abuse material named as such, with what was done with it.
            let direct = guess(value, as: OffenceCategory.self)
            if direct == .unknown, key.hasPrefix("material_de_abuso_sexual_infantil") || key.hasPrefix("masi") || key.hasPrefix("csam") {
                let english = ["distribution": "difusion", "production": "produccion", "possession": "posesion"]
                let rest = key.split(separator: "_").last.map(String.init) ?? ""
                return guess("pornografia infantil \(english[rest] ?? rest)", as: OffenceCategory.self)
            }
            return direct
        case .victimAgeBand: return guess(value, as: AgeBand.self)
        case .victimSex:
            if value.vocabularyKey == "m" {
                let keys = Set(others.map { $0.vocabularyKey })
                let hasF = keys.contains("f") || keys.contains("femenino"), hasH = keys.contains("h") || keys.contains("hombre")
                if hasF && !hasH { return .mapped("male", note: "M read as masculino: the column also has F (femenino)") }
                if hasH && !hasF { return .mapped("female", note: "M read as mujer: the column also has H (hombre)") }
            }
            return guess(value, as: VictimSex.self)
        case .state: return guess(value, as: MexicanState.self)
        case .reportChannel: return guess(value, as: ReportChannel.self)
        case .agencyType: return guess(value, as: AgencyType.self)
        case .detail, .targetDetail: return detailGuess(value, eventTypes: eventTypes)
        case .caseID, .date, .victimAge, .targetDate: return .unknown
        }
    }
}

/// Levenshtein distance (the starter's copy; PlazoModel's is internal there).
func starterEditDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.utf8), y = Array(b.utf8)
    if abs(x.count - y.count) > 2 { return 3 }
    var previous = Array(0...y.count)
    for i in 1...max(1, x.count) where !x.isEmpty {
        var current = [i] + [Int](repeating: 0, count: y.count)
        for j in 1...max(1, y.count) where !y.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return x.isEmpty ? y.count : previous[y.count]
}
