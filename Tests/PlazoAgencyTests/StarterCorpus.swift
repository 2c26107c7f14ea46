import Foundation
@testable import PlazoAgency

/// Realistic export layouts of Mexican offices, each with the mapping a careful clerk would write
/// for it (issue 22, item 2): the held-out corpus the starter mapping is measured on. Case numbers,
/// names, notes, addresses and URLs are invented; no row describes a real case.
struct CorpusExport: Sendable {
    /// A short name for messages.
    let name: String
    /// The export's bytes, as the office's software writes them.
    let bytes: [UInt8]
    /// Every header, in order, with the Plazo column it is (nil: not a Plazo column, to drop).
    let columns: [(header: String, column: String?)]
    /// Per Plazo column, every distinct value of the export and the Plazo label it means.
    let values: [String: [String: String]]
    /// The date format of the date columns (nil: ISO `YYYY-MM-DD`, which needs none).
    let dateFormat: String?
    /// The separator's name when it is not a comma.
    let delimiter: String?
    /// The encoding's name when it is not UTF-8.
    let encoding: String?

    /// Bytes of text in Windows-1252 (every character of these exports is in it).
    static func windows1252(_ text: String) -> [UInt8] {
        let table = CSVRowReader.windows1252
        return text.unicodeScalars.map { scalar in
            if scalar.value < 0x80 { return UInt8(scalar.value) }
            guard let byte = table.firstIndex(of: scalar) else { fatalError("\(scalar) is not in Windows-1252") }
            return UInt8(byte)
        }
    }
}

enum StarterCorpus {
    /// A state prosecutor (Jalisco style): semicolons (Excel in a Spanish locale), UTF-8 with a
    /// byte-order mark, DD/MM/YYYY dates, Spanish headers with accents and abbreviations, `anula_*`
    /// correction columns, municipality, investigator and notes columns to drop.
    static let prosecutorJalisco = CorpusExport(
        name: "fiscalía estatal (Jalisco)",
        bytes: [0xEF, 0xBB, 0xBF] + Array("""
            No. Carpeta;Tipo;Fecha_Registro;Motivo;Delito;Edad;Sexo Víctima;Municipio;Entidad;Medio;Agente del MP;Anula_Tipo;Anula_Fecha;Observaciones
            D-JAL-FEVIM-0101/2024;Denuncia;08/01/2024;;Pornografía infantil - difusión;14;Mujer;Guadalajara;Jalisco;Víctima o familiar;Lic. Ramírez;;;comparece la madre
            D-JAL-FEVIM-0101/2024;Inicio de carpeta;09/01/2024;;;;;Guadalajara;Jalisco;;Lic. Ramírez;;;
            D-JAL-FEVIM-0101/2024;Víctima informada;20/02/2024;Avance;;;;Guadalajara;Jalisco;;Lic. Ramírez;;;se llamó por teléfono
            D-JAL-FEVIM-0101/2024;Imputación;15/04/2024;;;;;Guadalajara;Jalisco;;Lic. Ramírez;;;
            D-JAL-FEVIM-0102/2024;Denuncia;10/01/2024;;Sextorsión;15;Hombre;Zapopan;Jalisco;Tercero;Lic. Núñez;;;"le pidieron $2,000"
            D-JAL-FEVIM-0102/2024;Inicio de carpeta;11/01/2024;;;;;Zapopan;Jalisco;;Lic. Núñez;;;
            D-JAL-FEVIM-0102/2024;Archivo temporal;30/05/2024;Archivo temporal;;;;Zapopan;Jalisco;;Lic. Núñez;;;
            D-JAL-FEVIM-0103/2024;Denuncia;12/01/2024;;Grooming;12;Mujer;Tlaquepaque;Jalisco;Reporte NCMEC;Lic. Ramírez;;;
            D-JAL-FEVIM-0103/2024;Canalización;13/01/2024;Policía cibernética;;;;Tlaquepaque;Jalisco;;Lic. Ramírez;;;
            D-JAL-FEVIM-0103/2024;Probable responsable identificado;02/03/2024;;;;;Tlaquepaque;Jalisco;;Lic. Ramírez;;;
            D-JAL-FEVIM-0104/2024;Denuncia;15/01/2024;;Ley Olimpia;16;Mujer;Tonalá;Jalisco;De oficio;Lic. Núñez;;;
            D-JAL-FEVIM-0104/2024;No ejercicio de la acción penal;20/06/2024;Pruebas insuficientes;;;;Tonalá;Jalisco;;Lic. Núñez;;;
            D-JAL-FEVIM-0105/2024;Denuncia;16/01/2024;;Pornografía Infantil - Posesión;13;Mujer;Guadalajara;Jalisco;Víctima o familiar;Lic. Ramírez;;;
            D-JAL-FEVIM-0105/2024;Inicio de carpeta;17/01/2024;;;;;Guadalajara;Jalisco;;Lic. Ramírez;;;
            D-JAL-FEVIM-0105/2024;Imputación;01/03/2024;;;;;Guadalajara;Jalisco;;Lic. Ramírez;;;
            D-JAL-FEVIM-0105/2024;Anulación;05/03/2024;;;;;Guadalajara;Jalisco;;Lic. Ramírez;Imputación;01/03/2024;capturada por error
            D-JAL-FEVIM-0105/2024;Víctima informada;06/03/2024;Audiencia programada;;;;Guadalajara;Jalisco;;Lic. Ramírez;;;
            D-JAL-FEVIM-0106/2024;Denuncia;18/01/2024;;Sextorsión;14;Hombre;Zapopan;Jalisco;Tercero;Lic. Núñez;;;
            D-JAL-FEVIM-0106/2024;Anulación;19/01/2024;;;;;Zapopan;Jalisco;;Lic. Núñez;Inicio de carpeta;17/01/2024;
            """.utf8),
        columns: [
            ("No. Carpeta", "case_id"), ("Tipo", "event"), ("Fecha_Registro", "date"), ("Motivo", "detail"),
            ("Delito", "offence_category"), ("Edad", "victim_age"), ("Sexo Víctima", "victim_sex"), ("Municipio", nil),
            ("Entidad", "state"), ("Medio", "report_channel"), ("Agente del MP", nil), ("Anula_Tipo", "target_event"),
            ("Anula_Fecha", "target_date"), ("Observaciones", nil),
        ],
        values: [
            "event": [
                "Denuncia": "report_received", "Inicio de carpeta": "investigation_opened", "Víctima informada": "victim_informed",
                "Imputación": "charge_filed", "Archivo temporal": "suspended", "Canalización": "referred",
                "Probable responsable identificado": "suspect_identified", "No ejercicio de la acción penal": "closed_without_charge",
                "Anulación": "void",
            ],
            "detail": [
                "Avance": "progress", "Archivo temporal": "temporary_archive", "Policía cibernética": "police_cyber_unit",
                "Pruebas insuficientes": "insufficient_evidence", "Audiencia programada": "hearing_scheduled",
            ],
            "offence_category": [
                "Pornografía infantil - difusión": "csam_distribution", "Sextorsión": "sexual_extortion", "Grooming": "online_grooming",
                "Ley Olimpia": "non_consensual_sharing", "Pornografía Infantil - Posesión": "csam_possession",
            ],
            "victim_sex": ["Mujer": "female", "Hombre": "male"],
            "state": ["Jalisco": "14"],
            "report_channel": [
                "Víctima o familiar": "victim_or_family", "Tercero": "third_party", "Reporte NCMEC": "platform_referral",
                "De oficio": "proactive_investigation",
            ],
            "target_event": ["Imputación": "charge_filed", "Inicio de carpeta": "investigation_opened"],
        ],
        dateFormat: "DD/MM/YYYY", delimiter: "semicolon", encoding: nil)

    /// A second state prosecutor (Mexico City style): a legacy system writing Windows-1252, upper
    /// case labels, date-times `DD/MM/YYYY HH:MM`, `*_corregido` correction columns, the victim's
    /// name and the borough to drop, and sex written F / M.
    static let prosecutorCDMX = CorpusExport(
        name: "fiscalía estatal (CDMX)",
        bytes: CorpusExport.windows1252("""
            carpeta_investigacion,fecha_hora,actuacion,detalle_actuacion,tipo_delito,edad_victima,genero_victima,alcaldia,estado,canal_denuncia,evento_corregido,fecha_corregida,detalle_corregido,nombre_victima,notas
            CI-FIDCANNA/B/UI-1 C/D/00412/01-2025,03/01/2025 09:15,DENUNCIA RECIBIDA,,PORNOGRAFÍA INFANTIL - PRODUCCIÓN,11,F,IZTAPALAPA,CIUDAD DE MÉXICO,VÍCTIMA,,,,MARÍA G. L.,
            CI-FIDCANNA/B/UI-1 C/D/00412/01-2025,04/01/2025 11:40,CARPETA INICIADA,,,,,IZTAPALAPA,CIUDAD DE MÉXICO,,,,,MARÍA G. L.,
            CI-FIDCANNA/B/UI-1 C/D/00412/01-2025,18/02/2025 13:05,IMPUTACIÓN FORMULADA,,,,,IZTAPALAPA,CIUDAD DE MÉXICO,,,,,MARÍA G. L.,audiencia inicial
            CI-FIDCANNA/B/UI-1 C/D/00412/01-2025,30/05/2025 10:00,RESOLUCIÓN,CONDENA EN PROCEDIMIENTO ABREVIADO,,,,IZTAPALAPA,CIUDAD DE MÉXICO,,,,,MARÍA G. L.,
            CI-FIDCANNA/B/UI-1 C/D/00413/01-2025,05/01/2025 16:20,DENUNCIA RECIBIDA,,SEXTORSIÓN,15,M,COYOACÁN,CIUDAD DE MÉXICO,FAMILIARES,,,,JUAN P. R.,
            CI-FIDCANNA/B/UI-1 C/D/00413/01-2025,06/01/2025 09:00,CARPETA INICIADA,,,,,COYOACÁN,CIUDAD DE MÉXICO,,,,,JUAN P. R.,
            CI-FIDCANNA/B/UI-1 C/D/00413/01-2025,20/03/2025 12:30,SUSPENSIÓN,PROBABLE RESPONSABLE NO LOCALIZADO,,,,COYOACÁN,CIUDAD DE MÉXICO,,,,,JUAN P. R.,
            CI-FIDCANNA/B/UI-1 C/D/00413/01-2025,02/05/2025 08:45,REAPERTURA,,,,,COYOACÁN,CIUDAD DE MÉXICO,,,,,JUAN P. R.,
            CI-FIDCANNA/B/UI-1 C/D/00414/01-2025,07/01/2025 10:10,DENUNCIA RECIBIDA,,GROOMING,13,F,TLALPAN,ESTADO DE MÉXICO,LÍNEA DE DENUNCIA,,,,ANA S. T.,
            CI-FIDCANNA/B/UI-1 C/D/00414/01-2025,09/01/2025 17:00,VÍCTIMA INFORMADA,NOTIFICACIÓN DE RESOLUCIÓN,,,,TLALPAN,ESTADO DE MÉXICO,,,,,ANA S. T.,
            CI-FIDCANNA/B/UI-1 C/D/00414/01-2025,10/01/2025 09:30,ANULACIÓN,,,,,TLALPAN,ESTADO DE MÉXICO,,VÍCTIMA INFORMADA,09/01/2025 17:00,NOTIFICACIÓN DE RESOLUCIÓN,ANA S. T.,se capturó en otra carpeta
            CI-FIDCANNA/B/UI-1 C/D/00415/01-2025,08/01/2025 12:00,DENUNCIA RECIBIDA,,LEY OLIMPIA,16,F,BENITO JUÁREZ,CIUDAD DE MÉXICO,REPORTE DE PLATAFORMA,,,,LUCÍA M. V.,
            CI-FIDCANNA/B/UI-1 C/D/00415/01-2025,15/04/2025 14:00,CIERRE SIN IMPUTACIÓN,SIN PROBABLE RESPONSABLE,,,,BENITO JUÁREZ,CIUDAD DE MÉXICO,,,,,LUCÍA M. V.,
            CI-FIDCANNA/B/UI-1 C/D/00416/01-2025,09/01/2025 13:45,DENUNCIA RECIBIDA,,TRANSMISIÓN EN VIVO,9,M,IZTAPALAPA,CIUDAD DE MÉXICO,VÍCTIMA,,,,PEDRO A. C.,
            CI-FIDCANNA/B/UI-1 C/D/00416/01-2025,10/01/2025 09:00,CARPETA INICIADA,,,,,IZTAPALAPA,CIUDAD DE MÉXICO,,,,,PEDRO A. C.,
            CI-FIDCANNA/B/UI-1 C/D/00416/01-2025,11/01/2025 09:00,ANULACIÓN,,,,,IZTAPALAPA,CIUDAD DE MÉXICO,,CARPETA INICIADA,10/01/2025 09:00,,PEDRO A. C.,
            CI-FIDCANNA/B/UI-1 C/D/00416/01-2025,12/05/2025 11:00,RESOLUCIÓN,SALIDA ALTERNA,,,,IZTAPALAPA,CIUDAD DE MÉXICO,,,,,PEDRO A. C.,

            """),
        columns: [
            ("carpeta_investigacion", "case_id"), ("fecha_hora", "date"), ("actuacion", "event"), ("detalle_actuacion", "detail"),
            ("tipo_delito", "offence_category"), ("edad_victima", "victim_age"), ("genero_victima", "victim_sex"), ("alcaldia", nil),
            ("estado", "state"), ("canal_denuncia", "report_channel"), ("evento_corregido", "target_event"),
            ("fecha_corregida", "target_date"), ("detalle_corregido", "target_detail"), ("nombre_victima", nil), ("notas", nil),
        ],
        values: [
            "event": [
                "DENUNCIA RECIBIDA": "report_received", "CARPETA INICIADA": "investigation_opened", "IMPUTACIÓN FORMULADA": "charge_filed",
                "RESOLUCIÓN": "disposed", "SUSPENSIÓN": "suspended", "REAPERTURA": "reopened", "VÍCTIMA INFORMADA": "victim_informed",
                "ANULACIÓN": "void", "CIERRE SIN IMPUTACIÓN": "closed_without_charge",
            ],
            "detail": [
                "CONDENA EN PROCEDIMIENTO ABREVIADO": "conviction_by_plea", "PROBABLE RESPONSABLE NO LOCALIZADO": "suspect_not_located",
                "NOTIFICACIÓN DE RESOLUCIÓN": "decision_notified", "SIN PROBABLE RESPONSABLE": "no_suspect_identified",
                "SALIDA ALTERNA": "diversion",
            ],
            "offence_category": [
                "PORNOGRAFÍA INFANTIL - PRODUCCIÓN": "csam_production", "SEXTORSIÓN": "sexual_extortion", "GROOMING": "online_grooming",
                "LEY OLIMPIA": "non_consensual_sharing", "TRANSMISIÓN EN VIVO": "live_streaming",
            ],
            "victim_sex": ["F": "female", "M": "male"],
            "state": ["CIUDAD DE MÉXICO": "09", "ESTADO DE MÉXICO": "15"],
            "report_channel": [
                "VÍCTIMA": "victim_or_family", "FAMILIARES": "victim_or_family", "LÍNEA DE DENUNCIA": "hotline",
                "REPORTE DE PLATAFORMA": "platform_referral",
            ],
            "target_event": ["VÍCTIMA INFORMADA": "victim_informed", "CARPETA INICIADA": "investigation_opened"],
            "target_detail": ["NOTIFICACIÓN DE RESOLUCIÓN": "decision_notified"],
        ],
        dateFormat: "DD/MM/YYYY HH:MM", delimiter: nil, encoding: "windows-1252")

    /// A police cyber unit: tab-separated, ISO date-times with `T`, `ref_*` correction columns,
    /// the referral target in `canalizado_a`, platform and analyst columns to drop.
    static let policeCyberUnit = CorpusExport(
        name: "policía cibernética",
        bytes: Array("""
            folio\tfecha_reporte\tevento\tclasificacion\tedad\tsexo\tentidad_federativa\tfuente\tplataforma\tref_evento\tref_fecha\tcanalizado_a\tanalista
            PC-SSC-2025-000871\t2025-02-03T10:22:05\tReporte recibido\tSextorsión\t15\tMasculino\tCDMX\tNCMEC\tInstagram\t\t\t\tOf. Torres
            PC-SSC-2025-000871\t2025-02-04T09:00:00\tCanalizado\t\t\t\tCDMX\t\tInstagram\t\t\tFiscalía estatal\tOf. Torres
            PC-SSC-2025-000872\t2025-02-05T18:40:12\tReporte recibido\tGrooming\t12\tFemenino\tEdomex\tVíctima o familia\tWhatsApp\t\t\t\tOf. Ruiz
            PC-SSC-2025-000872\t2025-02-06T08:15:00\tCanalizado\t\t\t\tEdomex\t\tWhatsApp\t\t\tFGR\tOf. Ruiz
            PC-SSC-2025-000872\t2025-02-06T08:20:00\tAnulado\t\t\t\tEdomex\t\tWhatsApp\tCanalizado\t2025-02-06T08:15:00\t\tOf. Ruiz
            PC-SSC-2025-000872\t2025-02-06T08:25:00\tCanalizado\t\t\t\tEdomex\t\tWhatsApp\t\t\tFiscalía estatal\tOf. Ruiz
            PC-SSC-2025-000873\t2025-02-07T11:05:44\tReporte recibido\tMaterial de abuso sexual infantil - difusión\t14\tFemenino\tPuebla\tPatrullaje cibernético\tTelegram\t\t\t\tOf. Torres
            PC-SSC-2025-000873\t2025-02-08T10:00:00\tCanalizado\t\t\t\tPuebla\t\tTelegram\t\t\tProcuraduría de Protección\tOf. Torres
            PC-SSC-2025-000874\t2025-02-10T20:12:30\tReporte recibido\tExposición a contenido sexual\t10\tNo especificado\tNuevo León\tTerceras personas\tTikTok\t\t\t\tOf. Ruiz
            PC-SSC-2025-000874\t2025-02-11T09:45:00\tVíctima informada\t\t\t\tNuevo León\t\tTikTok\t\t\t\tOf. Ruiz
            PC-SSC-2025-000875\t2025-02-12T07:30:00\tReporte recibido\tOtro\t16\tFemenino\tCDMX\tNCMEC\tFacebook\t\t\t\tOf. Torres
            PC-SSC-2025-000875\t2025-02-12T07:35:00\tAnulado\t\t\t\tCDMX\t\tFacebook\tReporte recibido\t2025-02-12T07:30:00\t\tOf. Torres

            """.utf8),
        columns: [
            ("folio", "case_id"), ("fecha_reporte", "date"), ("evento", "event"), ("clasificacion", "offence_category"), ("edad", "victim_age"),
            ("sexo", "victim_sex"), ("entidad_federativa", "state"), ("fuente", "report_channel"), ("plataforma", nil),
            ("ref_evento", "target_event"), ("ref_fecha", "target_date"), ("canalizado_a", "detail"), ("analista", nil),
        ],
        values: [
            "event": [
                "Reporte recibido": "report_received", "Canalizado": "referred", "Anulado": "void", "Víctima informada": "victim_informed",
            ],
            "detail": [
                "Fiscalía estatal": "state_prosecutor", "FGR": "federal_prosecutor", "Procuraduría de Protección": "child_protection",
            ],
            "offence_category": [
                "Sextorsión": "sexual_extortion", "Grooming": "online_grooming", "Material de abuso sexual infantil - difusión": "csam_distribution",
                "Exposición a contenido sexual": "unwanted_exposure", "Otro": "other",
            ],
            "victim_sex": ["Masculino": "male", "Femenino": "female", "No especificado": "unknown"],
            "state": ["CDMX": "09", "Edomex": "15", "Puebla": "21", "Nuevo León": "19"],
            "report_channel": [
                "NCMEC": "platform_referral", "Víctima o familia": "victim_or_family", "Patrullaje cibernético": "proactive_investigation",
                "Terceras personas": "third_party",
            ],
            "target_event": ["Canalizado": "referred", "Reporte recibido": "report_received"],
        ],
        dateFormat: "YYYY-MM-DDTHH:MM:SS", delimiter: "tab", encoding: nil)

    /// A hotline: comma-separated UTF-8 without a byte-order mark, `YYYY-MM-DD HH:MM:SS`
    /// date-times, the age as a band, girls and boys (`Niña`, `Niño`), reported URLs and the
    /// reporter's e-mail to drop.
    static let hotline = CorpusExport(
        name: "línea de denuncia",
        bytes: Array("""
            id_reporte,fecha_hora_recepcion,accion,destino,tipo_contenido,rango_edad,sexo_nna,estado,origen_reporte,url_reportada,correo_denunciante,comentarios
            LD-25-00031,2025-03-01 08:12:44,Reporte recibido,,Pornografía infantil - difusión,13 a 15 años,Niña,Jalisco,Línea de denuncia,https://ejemplo.invalid/a1,anonimo@correo.invalid,
            LD-25-00031,2025-03-01 15:30:00,Canalización,Policía Cibernética,,,,Jalisco,,https://ejemplo.invalid/a1,,
            LD-25-00032,2025-03-02 10:05:10,Reporte recibido,,Grooming,10 a 12 años,Niño,Veracruz,Reporte de plataforma,https://ejemplo.invalid/b2,,perfil falso
            LD-25-00032,2025-03-03 09:00:00,Canalización,Fiscalía Estatal,,,,Veracruz,,https://ejemplo.invalid/b2,,
            LD-25-00033,2025-03-04 21:47:02,Reporte recibido,,Sextorsión,16 a 17 años,Niña,Ciudad de México,Víctima o familia,,mama.de.x@correo.invalid,"pide $5,000"
            LD-25-00033,2025-03-05 09:10:00,Canalización,Fiscalía Estatal,,,,Ciudad de México,,,,
            LD-25-00034,2025-03-06 13:00:00,Reporte recibido,,Contenido íntimo sin consentimiento,13 a 15 años,Sin dato,Nuevo León,Tercera persona,https://ejemplo.invalid/c3,,
            LD-25-00034,2025-03-07 10:00:00,Cerrado,No constitutivo de delito,,,,Nuevo León,,https://ejemplo.invalid/c3,,contenido de adulto
            LD-25-00035,2025-03-08 07:55:19,Reporte recibido,,Pornografía infantil - difusión,0 a 9 años,Niña,Jalisco,Línea de denuncia,https://ejemplo.invalid/d4,,
            LD-25-00035,2025-03-08 12:00:00,Canalización,Policía Cibernética,,,,Jalisco,,https://ejemplo.invalid/d4,,
            LD-25-00036,2025-03-09 18:20:00,Reporte recibido,,Grooming,Desconocido,Niño,Veracruz,Tercera persona,,,

            """.utf8),
        columns: [
            ("id_reporte", "case_id"), ("fecha_hora_recepcion", "date"), ("accion", "event"), ("destino", "detail"),
            ("tipo_contenido", "offence_category"), ("rango_edad", "victim_age_band"), ("sexo_nna", "victim_sex"), ("estado", "state"),
            ("origen_reporte", "report_channel"), ("url_reportada", nil), ("correo_denunciante", nil), ("comentarios", nil),
        ],
        values: [
            "event": ["Reporte recibido": "report_received", "Canalización": "referred", "Cerrado": "closed_without_charge"],
            "detail": [
                "Policía Cibernética": "police_cyber_unit", "Fiscalía Estatal": "state_prosecutor", "No constitutivo de delito": "not_an_offence",
            ],
            "offence_category": [
                "Pornografía infantil - difusión": "csam_distribution", "Grooming": "online_grooming", "Sextorsión": "sexual_extortion",
                "Contenido íntimo sin consentimiento": "non_consensual_sharing",
            ],
            "victim_age_band": [
                "13 a 15 años": "13-15", "10 a 12 años": "10-12", "16 a 17 años": "16-17", "0 a 9 años": "0-9", "Desconocido": "unknown",
            ],
            "victim_sex": ["Niña": "female", "Niño": "male", "Sin dato": "unknown"],
            "state": ["Jalisco": "14", "Veracruz": "30", "Ciudad de México": "09", "Nuevo León": "19"],
            "report_channel": [
                "Línea de denuncia": "hotline", "Reporte de plataforma": "platform_referral", "Víctima o familia": "victim_or_family",
                "Tercera persona": "third_party",
            ],
        ],
        dateFormat: "YYYY-MM-DD HH:MM:SS", delimiter: nil, encoding: nil)

    /// An office that followed the guide in part: some Plazo column names, some of its own;
    /// machine labels beside Spanish ones and state codes; semicolons and Windows-1252 (Excel on an
    /// older Windows); DD/MM/YYYY dates; `anula_*` correction columns; the clerk who typed the row.
    static let partialGuide = CorpusExport(
        name: "guía a medias",
        bytes: CorpusExport.windows1252("""
            case_id;event;fecha;detail;delito;victim_age;sexo;state;canal;anula_evento;anula_detalle;anula_fecha;capturista
            FGE-GTO-2025-0501;report_received;02/01/2025;;Enganche en línea;14;Mujer;11;Víctima;;;;jlopez
            FGE-GTO-2025-0501;investigation_opened;03/01/2025;;;;;11;;;;;jlopez
            FGE-GTO-2025-0501;victim_informed;15/02/2025;Avance;;;;11;;;;;mperez
            FGE-GTO-2025-0501;charge_filed;01/03/2025;;;;;11;;;;;mperez
            FGE-GTO-2025-0501;disposed;20/05/2025;conviction_at_trial;;;;11;;;;;mperez
            FGE-GTO-2025-0502;report_received;04/01/2025;;Sextorsión;15;Hombre;11;Familia;;;;jlopez
            FGE-GTO-2025-0502;victim_informed;10/01/2025;progress;;;;11;;;;;jlopez
            FGE-GTO-2025-0502;void;11/01/2025;;;;;11;;victim_informed;progress;10/01/2025;jlopez
            FGE-GTO-2025-0503;report_received;05/01/2025;;Difusión no consentida;16;Mujer;22;Línea de denuncia;;;;mperez
            FGE-GTO-2025-0503;investigation_opened;06/01/2025;;;;;22;;;;;mperez
            FGE-GTO-2025-0503;charge_filed;20/02/2025;;;;;22;;;;;mperez
            FGE-GTO-2025-0503;void;21/02/2025;;;;;22;;charge_filed;;20/02/2025;mperez
            FGE-GTO-2025-0504;report_received;07/01/2025;;Sextorsión;13;No registrado;11;Víctima;;;;jlopez

            """),
        columns: [
            ("case_id", "case_id"), ("event", "event"), ("fecha", "date"), ("detail", "detail"), ("delito", "offence_category"),
            ("victim_age", "victim_age"), ("sexo", "victim_sex"), ("state", "state"), ("canal", "report_channel"),
            ("anula_evento", "target_event"), ("anula_detalle", "target_detail"), ("anula_fecha", "target_date"), ("capturista", nil),
        ],
        values: [
            "event": [
                "report_received": "report_received", "investigation_opened": "investigation_opened", "victim_informed": "victim_informed",
                "charge_filed": "charge_filed", "disposed": "disposed", "void": "void",
            ],
            "detail": ["Avance": "progress", "conviction_at_trial": "conviction_at_trial", "progress": "progress"],
            "offence_category": [
                "Enganche en línea": "online_grooming", "Sextorsión": "sexual_extortion", "Difusión no consentida": "non_consensual_sharing",
            ],
            "victim_sex": ["Mujer": "female", "Hombre": "male", "No registrado": "unknown"],
            "state": ["11": "11", "22": "22"],
            "report_channel": ["Víctima": "victim_or_family", "Familia": "victim_or_family", "Línea de denuncia": "hotline"],
            "target_event": ["victim_informed": "victim_informed", "charge_filed": "charge_filed"],
            "target_detail": ["progress": "progress"],
        ],
        dateFormat: "DD/MM/YYYY", delimiter: "semicolon", encoding: "windows-1252")

    /// The whole corpus.
    static let all = [prosecutorJalisco, prosecutorCDMX, policeCyberUnit, hotline, partialGuide]
}
