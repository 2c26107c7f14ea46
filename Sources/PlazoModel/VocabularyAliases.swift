import Foundation

// Other spellings of the vocabulary v1's codes, accepted in agency exports.
//
// Every code has one Spanish label, as an office in Mexico would write it in its own export
// ("Denuncia recibida", "Pornografía infantil - difusión"); it is a column of the code's
// vocabulary table (Codes.swift). `plazo seal` accepts these labels, without regard to case,
// accents or punctuation, besides the machine labels and code numbers; `plazo vocabulary --lang es`
// prints them. A few common synonyms and short forms are accepted as aliases (state names such as
// CDMX or Edomex), listed here. A value that means two different codes in the two languages (`M`:
// mujer, or male) is refused with a sentence unless a mapping file says what the agency means by it.

extension EventType {
    public static var aliases: [String: EventType] {
        ["denuncia": .reportReceived, "canalizacion": .referred, "carpeta_de_investigacion": .investigationOpened,
         "imputacion": .chargeFiled, "archivo_temporal": .suspended, "anulacion_de_registro": .void]
    }
}

extension OffenceCategory {
    public static var aliases: [String: OffenceCategory] {
        ["grooming": .onlineGrooming, "sextortion": .sexualExtortion, "extorsion_sexual": .sexualExtortion]
    }
}

extension VictimSex {
    public static var aliases: [String: VictimSex] {
        ["f": .female, "femenino": .female, "h": .male, "masculino": .male, "nr": .unknown]
    }

    public static var ambiguous: [String: String] {
        ["m": "'M' is ambiguous: it may mean mujer (female) or male. Write female or male (mujer or hombre), or map M in a mapping file"]
    }
}

extension MexicanState {
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

extension AgencyType {
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
