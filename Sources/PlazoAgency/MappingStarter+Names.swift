import Foundation
import PlazoModel

extension MappingStarter {
    /// What a header name says about its column.
    struct NameGuess: Equatable {
        /// The Plazo column the name points to, if any.
        var column: ExportColumn?
        /// 3: a known name; 2: a known word in the name; 0: nothing known.
        var strength: Int
        /// The name is of something Plazo never takes (names, notes, addresses, staff, URLs).
        var excluded: Bool
    }

    /// Common header names of each Plazo column, as ``Swift/String/vocabularyKey``.
    static let headerNames: [String: ExportColumn] = {
        var out: [String: ExportColumn] = [:]
        func add(_ c: ExportColumn, _ names: String...) { for n in names { out[n] = c } }
        add(.caseID, "case_id", "carpeta", "carpeta_de_investigacion", "carpeta_investigacion", "no_carpeta", "num_carpeta",
            "numero_de_carpeta", "expediente", "folio", "caso", "numero_de_caso", "nuc", "nic", "id_caso", "case", "case_number",
            "id_reporte", "folio_reporte", "report_id")
        add(.event, "event", "evento", "tipo_evento", "tipo_de_evento", "actuacion", "event_type", "accion", "tipo")
        add(.date, "date", "fecha", "fecha_evento", "fecha_del_evento", "event_date", "fecha_registro", "fecha_hora")
        add(.detail, "detail", "detalle", "motivo", "resultado", "destino", "canalizado_a", "canalizada_a")
        add(.offenceCategory, "offence_category", "delito", "tipo_delito", "tipo_de_delito", "offence", "offense", "clasificacion")
        add(.victimAge, "victim_age", "edad", "edad_victima", "edad_de_la_victima", "age")
        add(.victimAgeBand, "victim_age_band", "rango_edad", "rango_de_edad", "grupo_de_edad")
        add(.victimSex, "victim_sex", "sexo", "sexo_victima", "sexo_de_la_victima", "genero", "sex", "gender")
        add(.state, "state", "entidad", "estado", "entidad_federativa")
        add(.reportChannel, "report_channel", "canal", "medio", "medio_de_denuncia", "via_de_denuncia", "channel", "canal_denuncia")
        add(.agencyType, "agency_type", "tipo_institucion", "tipo_de_institucion", "institucion")
        add(.targetEvent, "target_event", "evento_anulado")
        add(.targetDetail, "target_detail", "detalle_anulado")
        add(.targetDate, "target_date", "fecha_anulada")
        return out
    }()

    /// Words of a header that name something Plazo never takes: the column is dropped.
    static let excludedWords: Set<String> = [
        "nombre", "nombres", "apellido", "apellidos", "name", "names", "nota", "notas", "notes", "note", "observacion", "observaciones",
        "comentario", "comentarios", "comments", "descripcion", "narrativa", "relato", "domicilio", "direccion", "address", "calle",
        "colonia", "cp", "telefono", "tel", "celular", "phone", "correo", "email", "mail", "url", "link", "enlace", "municipio",
        "alcaldia", "localidad", "agente", "analista", "capturista", "usuario", "user", "plataforma", "platform", "red", "curp", "rfc",
        "ip", "nacimiento", "birth", "mp",
    ]

    /// Words that mark a correction's target (`anula_*`, `*_corregido`, `ref_*`).
    static let targetWords: Set<String> = [
        "anula", "anulado", "anulada", "anular", "corregido", "corregida", "correccion", "ref", "referencia", "original", "target",
        "objetivo", "voided", "retractado",
    ]

    /// Words of a header, in the order they are judged: the first group with a word in the name wins.
    static let kindWords: [(ExportColumn, Set<String>)] = [
        (.date, ["fecha", "date", "fec", "datetime", "timestamp", "dia", "received", "reported", "created", "when"]),
        (.caseID, ["carpeta", "expediente", "folio", "caso", "nuc", "nic", "averiguacion", "case", "ticket"]),
        (.victimAgeBand, []),  // edad with rango, grupo or banda: judged below
        (.victimAge, ["edad", "age", "anos"]),
        (.victimSex, ["sexo", "genero", "sex", "gender"]),
        (.offenceCategory, ["delito", "delitos", "contenido", "clasificacion", "conducta", "ilicito", "offence", "offense", "crime", "modalidad",
                            "content", "category", "abuse"]),
        (.detail, ["detalle", "motivo", "resultado", "destino", "canalizado", "canalizada", "razon", "causa", "sentido", "detail", "reason", "subtipo",
                   "resolucion", "determinacion", "referred", "referral", "destination", "outcome", "result"]),
        (.reportChannel, ["canal", "medio", "via", "origen", "fuente", "channel", "source", "procedencia"]),
        (.agencyType, ["institucion", "agencia", "dependencia", "agency"]),
        (.state, ["entidad", "estado", "state", "edo"]),
        (.event, ["evento", "tipo", "actuacion", "accion", "etapa", "movimiento", "diligencia", "estatus", "status", "event", "action", "suceso", "acto", "tramite",
                  "type", "step", "stage"]),
    ]

    /// A header's words: camelCase split, then ``Swift/String/vocabularyKey``.
    static func headerKey(_ header: String) -> String {
        var spaced = ""
        var previousLower = false
        for ch in header {
            if ch.isUppercase && previousLower { spaced.append("_") }
            previousLower = ch.isLowercase
            spaced.append(ch)
        }
        return spaced.vocabularyKey
    }

    /// Judges a header by its name alone.
    static func judgeName(_ header: String) -> NameGuess {
        let key = header.vocabularyKey
        if let exact = headerNames[key] ?? headerNames[headerKey(header)] { return NameGuess(column: exact, strength: 3, excluded: false) }
        let words = headerKey(header).split(separator: "_").map(String.init)
        let set = Set(words)
        if !set.isDisjoint(with: excludedWords) { return NameGuess(column: nil, strength: 0, excluded: true) }
        let isTarget = !set.isDisjoint(with: targetWords)
        // An identifier of a report or complaint is the case identifier.
        if !set.isDisjoint(with: ["id", "no", "num", "numero", "number"]),
           !set.isDisjoint(with: ["reporte", "denuncia", "report", "carpeta", "caso", "expediente"]), !isTarget {
            return NameGuess(column: .caseID, strength: 2, excluded: false)
        }
        for (column, kind) in kindWords {
            let hit: Bool
            if column == .victimAgeBand {
                hit = !set.isDisjoint(with: ["edad", "age"]) && !set.isDisjoint(with: ["rango", "grupo", "banda", "band", "range", "group"])
            } else {
                hit = !set.isDisjoint(with: kind)
            }
            guard hit else { continue }
            if isTarget {
                switch column {
                case .event: return NameGuess(column: .targetEvent, strength: 2, excluded: false)
                case .date: return NameGuess(column: .targetDate, strength: 2, excluded: false)
                case .detail: return NameGuess(column: .targetDetail, strength: 2, excluded: false)
                default: return NameGuess(column: column, strength: 1, excluded: false)
                }
            }
            return NameGuess(column: column, strength: 2, excluded: false)
        }
        return NameGuess(column: nil, strength: 0, excluded: false)
    }
}
